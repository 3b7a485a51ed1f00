import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """Action items get the created_at every tracked record has (existing ones: the migration's time),
    and meetings and action items an index on updated_at like the other tracked records."""

    dependencies = [
        ("meetings", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="actionitem",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now, verbose_name="created at"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalactionitem",
            name="created_at",
            field=models.DateTimeField(
                blank=True, default=django.utils.timezone.now, editable=False, verbose_name="created at"
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="actionitem",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name="updated at"),
        ),
        migrations.AlterField(
            model_name="meeting",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name="updated at"),
        ),
    ]
