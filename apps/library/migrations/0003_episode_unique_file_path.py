"""One file belongs to one episode: release duplicate paths, then make the stored path unique.

Before names kept the season/episode marker, two episodes of a long-titled series
could record the same file; the later download had overwritten the earlier one's
file. The most recently updated row keeps the path (its download wrote the file
last); the others forget it and become missing again, so they are downloaded anew.
"""

from django.db import migrations, models
from django.db.models import Count


def release_duplicate_paths(apps, schema_editor):
    episode_model = apps.get_model("library", "Episode")
    shared = (
        episode_model.objects.exclude(file_path="")
        .values("file_path")
        .annotate(owners=Count("id"))
        .filter(owners__gt=1)
        .values_list("file_path", flat=True)
    )
    for path in list(shared):
        rows = list(episode_model.objects.filter(file_path=path).order_by("-updated_at", "-id"))
        for row in rows[1:]:
            row.file_path, row.file_size, row.file_language = "", None, None
            if row.state == "present":
                row.state = "missing"
            row.save(update_fields=["file_path", "file_size", "file_language", "state"])


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0002_site_labels"),
    ]

    operations = [
        migrations.RunPython(release_duplicate_paths, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="episode",
            constraint=models.UniqueConstraint(
                condition=models.Q(("file_path", ""), _negated=True),
                fields=("file_path",),
                name="library_episode_unique_file_path",
            ),
        ),
    ]
