"""The shipped templates' files and hostile variants of them, for the provisioning tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SHIPPED = ("Pacing_Server_Cluster", "Pacing_Server")

#: the application types as provisioning.templates.service.app_types() gives them (without Django here)
APP_TYPES = {"Application Cluster": "application_cluster", "application_cluster": "application_cluster",
             "Genesys Generic Server": "genesys_generic_server", "genesys_generic_server": "genesys_generic_server"}


def shipped(name: str, ext: str) -> bytes:
    return (TEMPLATES / f"{name}.{ext}").read_bytes()


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<application-metadata template="Pacing_Server"><section name="&lol2;" origin="ours"/></application-metadata>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<application-template><name>&xxe;</name></application-template>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE application-template SYSTEM "http://127.0.0.1:9/template.dtd">
<application-template><name>x</name></application-template>
"""


def apd(options: str = "", *, name: str = "T1", app_type: str = "Application Cluster", extra: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<application-template format="1">\n  <name>{name}</name>\n'
            f"  <type>{app_type}</type>\n  <version>1.0</version>\n  <options>\n{options}  </options>\n{extra}"
            "</application-template>\n").encode()


def metadata(options: str, *, template: str = "T1") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<application-metadata format="1" template="{template}">\n'
            f'  <section name="pacing" origin="vendor">\n{options}  </section>\n</application-metadata>\n').encode()


GOAL = ('    <option name="optimizationGoal" type="number" default="3" min="0" max="100" origin="vendor">\n'
        "      <description>The goal.</description>\n    </option>\n")
GOAL_VALUE = '    <section name="pacing">\n      <option name="optimizationGoal" value="{}"/>\n    </section>\n'
