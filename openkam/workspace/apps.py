from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The signed-in user's start page and global search: an interface that composes other apps' selectors."""

    name = "openkam.workspace"
    label = "workspace"
    verbose_name = "OpenKAM workspace"
