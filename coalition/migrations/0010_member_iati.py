import coalition.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("coalition", "0009_public"),
    ]

    operations = [
        migrations.AddField(
            model_name='member',
            name='iati_identifier',
            field=models.CharField(blank=True, help_text='Its identifier in the IATI organisation registry, such as XM-DAC-41114 or GB-COH-123456.', max_length=100, validators=[coalition.models.validate_iati_identifier], verbose_name='IATI organisation identifier'),
        ),
    ]
