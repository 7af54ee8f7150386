"""The pure template parsers (provisioning/templates/apd.py, metadata.py): the shipped files, the round trip and
every bad input refused with the file, the line and the problem. No database, no Django."""

from __future__ import annotations

import subprocess
import sys

import pytest

from configdb.demo import CLUSTER_OPTIONS
from provisioning.templates import apd, metadata
from provisioning.templates.files import MAX_FILE_BYTES, TemplateError

from .helpers import (
    APP_TYPES,
    ENTITY_BOMB,
    EXTERNAL_DTD,
    EXTERNAL_ENTITY,
    GOAL,
    GOAL_VALUE,
    ROOT,
    SHIPPED,
    shipped,
)
from .helpers import apd as make_apd
from .helpers import metadata as make_metadata


def refused(parse, data: bytes, file: str = "f.xml") -> list[str]:
    with pytest.raises(TemplateError) as info:
        parse(data, file)
    return info.value.messages


def parse_apd(data: bytes, file: str = "t.apd"):
    return apd.parse_apd(data, file, APP_TYPES)


# -- the shipped templates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_templates_parse_and_agree_with_their_metadata(name):
    template = parse_apd(shipped(name, "apd"), f"{name}.apd")
    meta = metadata.parse_metadata(shipped(name, "xml"), f"{name}.xml")
    metadata.check_template(template, meta, f"{name}.apd", f"{name}.xml")
    assert template.name == meta.template == name
    assert template.version == "9.0.0"
    # every default of the .apd is the metadata's default
    assert template.options == {s: {k: meta.defaults()[s][k] for k in keys} for s, keys in template.options.items()}


@pytest.mark.parametrize("name", SHIPPED)
def test_round_trip_of_the_shipped_templates(name):
    template = parse_apd(shipped(name, "apd"))
    meta = metadata.parse_metadata(shipped(name, "xml"), "x.xml")
    assert parse_apd(apd.to_apd(template)) == template
    assert metadata.parse_metadata(metadata.to_xml(meta), "x.xml") == meta


def test_the_cluster_template_carries_the_options_of_today_and_the_seeds():
    template = parse_apd(shipped("Pacing_Server_Cluster", "apd"))
    assert template.app_type == "application_cluster"
    assert template.options == CLUSTER_OPTIONS
    node = parse_apd(shipped("Pacing_Server", "apd"))
    assert node.app_type == "genesys_generic_server"
    assert set(node.options) == {"log"}


def test_the_metadata_says_whose_each_option_is():
    """The seeds publish the section names, the eight metrics keys, pacing/optimizationGoal and
    pacingEndpoint/targetEndpoint; every other key is ours."""
    meta = metadata.parse_metadata(shipped("Pacing_Server_Cluster", "xml"), "x.xml")
    vendor = {(s.name, o.key) for s in meta.sections for o in s.options if o.origin == "vendor"}
    metrics = {"GcFrequency.threshold", "GcLatency.threshold", "reporter.console.enabled",
               "reporter.console.logFrequency", "reporter.log.enabled", "reporter.log.logFrequency",
               "reporter.messageServer.enabled", "reporter.messageServer.logFrequency"}
    assert vendor == {("metrics", k) for k in metrics} | {("pacing", "optimizationGoal"),
                                                          ("pacingEndpoint", "targetEndpoint")}
    assert {s.name for s in meta.sections} == {"log", "metrics", "pacing", "pacingEndpoint", "forward-proxy"}
    assert all(s.origin == "vendor" for s in meta.sections)
    assert meta.option("metrics", "heapMemoryUsage.threshold").origin == "ours"
    goal = meta.option("pacing", "optimizationGoal")
    assert (goal.type, goal.minimum, goal.maximum, goal.default) == ("number", 0, 100, "3")
    assert all(o.description for s in meta.sections for o in s.options)
    node = metadata.parse_metadata(shipped("Pacing_Server", "xml"), "x.xml")
    assert all(o.origin == "ours" for s in node.sections for o in s.options)


def test_the_parsers_import_no_django():
    code = ("import sys; import provisioning.templates.apd, provisioning.templates.metadata; "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_plain_text_export_is_read_as_defaults():
    defaults = apd.parse_defaults_text(b"[pacing]\noptimizationGoal=5\n", "d.txt")
    assert defaults == {"pacing": {"optimizationGoal": "5"}}
    messages = refused(apd.parse_defaults_text, b"[pacing]\noptimizationGoal=5\nnot a line\n", "d.txt")
    assert messages[0].startswith("d.txt, line 3: expected '[section]' or 'key=value'")


# -- bad input: each refused, naming the file, the line and the problem -------------------------------------------


@pytest.mark.parametrize("parse", [parse_apd, metadata.parse_metadata, apd.parse_defaults_text])
def test_an_oversized_file_is_refused_unread(parse):
    messages = refused(parse, b" " * (MAX_FILE_BYTES + 1), "big.apd")
    assert messages == [f"big.apd: the file is {MAX_FILE_BYTES + 1:,} bytes, larger than the limit of 2 MiB; "
                        "nothing was read."]


@pytest.mark.parametrize("parse", [parse_apd, metadata.parse_metadata, apd.parse_defaults_text])
def test_nul_bytes_are_refused_with_their_line(parse):
    messages = refused(parse, b"<application-template>\n<name>a\x00b</name>", "nul.apd")
    assert messages == ["nul.apd, line 2: a NUL byte at byte 30: this is not a text file."]


@pytest.mark.parametrize("parse", [parse_apd, metadata.parse_metadata, apd.parse_defaults_text])
def test_invalid_utf8_is_refused_with_its_line(parse):
    messages = refused(parse, b"<application-template>\n\n<name>caf\xe9</name>", "latin.apd")
    assert messages == ["latin.apd, line 3: invalid UTF-8 at byte 33: the file must be UTF-8 text."]


def test_truncated_xml_is_refused_with_its_line():
    data = shipped("Pacing_Server_Cluster", "xml")
    cut = data[: len(data) // 2]
    messages = refused(metadata.parse_metadata, cut, "Pacing_Server_Cluster.xml")
    line = cut.count(b"\n") + 1
    assert len(messages) == 1
    assert messages[0].startswith(f"Pacing_Server_Cluster.xml, line {line}: not well-formed XML")
    assert "truncated" in messages[0]


def test_an_entity_bomb_is_refused_before_any_expansion():
    messages = refused(metadata.parse_metadata, ENTITY_BOMB, "bomb.xml")
    assert messages == ["bomb.xml, line 3: the XML declares an entity ('lol'); entity declarations are refused "
                        "(they are how entity bombs and external entities get in)."]


def test_an_external_entity_is_refused():
    messages = refused(parse_apd, EXTERNAL_ENTITY, "xxe.apd")
    assert messages[0].startswith("xxe.apd, line 3: the XML declares an entity ('xxe', external: "
                                  "'file:///etc/passwd')")


def test_an_external_dtd_is_refused_unfetched():
    messages = refused(parse_apd, EXTERNAL_DTD, "dtd.apd")
    assert messages == ["dtd.apd, line 2: the XML refers to an external resource "
                        "('http://127.0.0.1:9/template.dtd'); external entities and DTDs are refused."]


def test_an_unknown_application_type_is_refused():
    messages = refused(parse_apd, make_apd(app_type="Pacing Toaster"), "t.apd")
    assert len(messages) == 1
    assert messages[0].startswith("t.apd, line 4: unknown application type 'Pacing Toaster' (known: ")
    assert "Application Cluster" in messages[0]


def test_a_default_outside_its_own_valid_values_is_refused():
    bad = GOAL.replace('default="3"', 'default="300"')
    messages = refused(metadata.parse_metadata, make_metadata(bad), "m.xml")
    assert messages == ["m.xml, line 4: option pacing/optimizationGoal: its default '300' is above the maximum 100 "
                        "— the default lies outside its own valid values."]
    listed = ('    <option name="media" type="string" default="fax" origin="ours">\n'
              "      <valid-values><value>chat</value><value>voice</value></valid-values>\n    </option>\n")
    messages = refused(metadata.parse_metadata, make_metadata(listed), "m.xml")
    assert messages == ["m.xml, line 4: option pacing/media: its default 'fax' is not one of its valid values "
                        "(chat, voice) — the default lies outside its own valid values."]


def test_duplicate_keys_are_refused_in_both_files():
    twice = GOAL_VALUE.format("3").replace("    </section>", '      <option name="optimizationGoal" value="4"/>\n'
                                                             "    </section>")
    messages = refused(parse_apd, make_apd(twice), "t.apd")
    assert messages == ["t.apd, line 9: key 'optimizationGoal' appears twice in section 'pacing'."]
    messages = refused(metadata.parse_metadata, make_metadata(GOAL + GOAL), "m.xml")
    assert messages == ["m.xml, line 7: option pacing/optimizationGoal is described twice."]


def test_unknown_elements_and_attributes_are_refused():
    messages = refused(parse_apd, make_apd(extra='  <colour>red</colour>\n'), "t.apd")
    assert messages == ["t.apd, line 8: unknown element <colour> in <application-template> (allowed: <name>, "
                        "<type>, <version>, <options>, <annex>)."]
    messages = refused(metadata.parse_metadata, make_metadata(GOAL.replace('origin="vendor"', 'origin="mine"')),
                       "m.xml")
    assert messages == ["m.xml, line 4: origin='mine': it must be one of vendor, ours (whose option it is)."]
    messages = refused(metadata.parse_metadata, make_metadata(GOAL.replace("min=", "minimum=")), "m.xml")
    assert messages[0].startswith("m.xml, line 4: <option> has an unknown attribute 'minimum'")


def test_an_apd_key_its_metadata_does_not_describe_is_refused():
    template = parse_apd(make_apd(GOAL_VALUE.format("3").replace("optimizationGoal", "speed")))
    meta = metadata.parse_metadata(make_metadata(GOAL), "m.xml")
    with pytest.raises(TemplateError) as info:
        metadata.check_template(template, meta, "t.apd", "m.xml")
    assert info.value.messages == ["t.apd, line 8: unknown key pacing/speed: m.xml does not describe it."]
    template = parse_apd(make_apd(GOAL_VALUE.format("101")))
    with pytest.raises(TemplateError) as info:
        metadata.check_template(template, meta, "t.apd", "m.xml")
    assert info.value.messages == ["t.apd, line 8: pacing/optimizationGoal: '101' is above the maximum 100 (per "
                                   "m.xml: number, at least 0, at most 100)."]


def test_every_problem_of_a_file_is_told_at_once():
    data = make_apd(GOAL_VALUE.format("3") + GOAL_VALUE.format("3"), app_type="Nope")
    messages = refused(parse_apd, data, "t.apd")
    assert len(messages) == 2
    assert "unknown application type" in messages[0] and "appears twice" in messages[1]


def test_an_xml_declaring_another_encoding_is_refused():
    data = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<application-template/>'
    messages = refused(parse_apd, data, "latin.apd")
    assert messages == ["latin.apd, line 1: the XML declares the encoding 'ISO-8859-1'; template files are UTF-8 "
                        "(declare encoding=\"UTF-8\" or none)."]
    assert parse_apd(shipped("Pacing_Server", "apd")).name == "Pacing_Server"  # encoding="UTF-8" is fine
