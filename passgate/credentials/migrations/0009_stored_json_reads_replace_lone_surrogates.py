# The decoder only changes how Python reads stored JSON (lone surrogates become U+FFFD): no database change,
# so the tables are not rebuilt (SQLite would copy them for an AlterField).

import passgate.core.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('credentials', '0008_throttle_counters_replace_lockouts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='passkey',
                name='attestation_certificates',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='passkey',
                name='transports',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='policyversion',
                name='changes',
                field=models.JSONField(blank=True, decoder=passgate.core.text.ScrubbingJSONDecoder, default=list),
            ),
            migrations.AlterField(
                model_name='policyversion',
                name='document',
                field=models.JSONField(decoder=passgate.core.text.ScrubbingJSONDecoder),
            ),
        ], database_operations=[]),
    ]
