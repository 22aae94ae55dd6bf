# The decoder only changes how Python reads stored JSON (lone surrogates become U+FFFD): no database change,
# so the tables are not rebuilt (SQLite would copy them for an AlterField).

import passgate.core.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_signinevent'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='auditevent',
                name='details',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=dict),
            ),
            migrations.AlterField(
                model_name='signinevent',
                name='amr',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='signinevent',
                name='applied_policies',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='signinevent',
                name='authentication_details',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='signinevent',
                name='authentication_strength',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, null=True),
            ),
        ], database_operations=[]),
    ]
