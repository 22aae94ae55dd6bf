# The decoder only changes how Python reads stored JSON (lone surrogates become U+FFFD): no database change,
# so the tables are not rebuilt (SQLite would copy them for an AlterField).

import passgate.core.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='accesspolicy',
                name='document',
                field=models.JSONField(decoder=passgate.core.text.ScrubbingJSONDecoder),
            ),
            migrations.AlterField(
                model_name='strengthpolicy',
                name='document',
                field=models.JSONField(decoder=passgate.core.text.ScrubbingJSONDecoder),
            ),
        ], database_operations=[]),
    ]
