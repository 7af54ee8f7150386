"""Hosts: the machines applications run on."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .base import ConfigObject, FolderType
from .fields import OptionsField


class OSType(models.TextChoices):
    """Configuration Server's host operating systems (CfgOSType), the ones still seen in the field."""

    WINDOWS = "windows", "Windows"
    LINUX = "linux", "Linux"
    SOLARIS = "solaris", "Solaris"
    AIX = "aix", "AIX"
    HPUX = "hpux", "HP-UX"
    MACOS = "macos", "Mac OS"
    UNKNOWN = "unknown", "Unknown"


class Host(ConfigObject):

    natural_key_fields = ("name",)
    folder_type = FolderType.HOSTS

    name = models.CharField(max_length=255, unique=True)
    ip_address = models.CharField(
        "IP address", max_length=255, blank=True, help_text="IP address or fully qualified domain name."
    )
    os_type = models.CharField("OS type", max_length=16, choices=OSType.choices, default=OSType.LINUX)
    os_version = models.CharField("OS version", max_length=64, blank=True)
    lca_port = models.PositiveIntegerField(
        "LCA port", default=4999, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    options = OptionsField()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

