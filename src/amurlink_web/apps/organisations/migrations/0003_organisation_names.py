from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0002_language_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="names",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='The name in other languages, e.g. {"zh-hans": "...", "ru": "..."}; '
                '"name" is shown where none is given',
            ),
        ),
    ]
