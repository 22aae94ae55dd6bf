# The decoder only changes how Python reads stored JSON (lone surrogates become U+FFFD): no database change,
# so the tables are not rebuilt (SQLite would copy them for an AlterField).

import passgate.core.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('apps', '0003_secret_credential'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='appregistration',
                name='allowed_scopes',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='appregistration',
                name='jwks',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, null=True),
            ),
            migrations.AlterField(
                model_name='appregistration',
                name='permissions',
                field=models.JSONField(decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='appregistration',
                name='post_logout_redirect_uris',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='appregistration',
                name='redirect_uris',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='oidcgrant',
                name='amr',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
        ], database_operations=[]),
    ]
