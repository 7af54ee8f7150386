"""The Stat Server options the pacing service needs: three statistics and one filter (seeds/pacing-provisioning.txt).

The seed names them — statistics ``PACS_VQ_Abandoned``, ``PACS_VQ_Accepted``, ``PACS_VQ_Current`` and filter
``PACS_Proactive_Interaction`` — and says provisioning adds them to "the options of the Stat Server application
connected to the Pacing Service Cluster application", *if absent*. It never publishes their definitions: **every
value below is ours**, written as Stat Server holds a statistic (a section named after it, with ``Category``,
``MainMask``, ``Objects``, ``Subject``, ``Description``) and a filter (a key of its ``filters`` section whose value
is the filter expression). docs/provisioning.md explains each choice.

Pure data (no Django): the provisioning service and the config doctor read the one declaration here.
"""

from __future__ import annotations

#: a statistic: section name → its keys (Stat Server's statistic type definition)
STATISTICS: dict[str, dict[str, str]] = {
    "PACS_VQ_Abandoned": {
        "Category": "TotalNumber",
        "MainMask": "CallAbandoned",
        "Objects": "Queue",
        "Subject": "DNAction",
        "Description": "Pacing: interactions abandoned in the virtual queue (over the requested interval).",
    },
    "PACS_VQ_Accepted": {
        "Category": "TotalNumber",
        "MainMask": "CallDistributed",
        "Objects": "Queue",
        "Subject": "DNAction",
        "Description": "Pacing: interactions distributed from the virtual queue to an agent (over the requested "
                       "interval).",
    },
    "PACS_VQ_Current": {
        "Category": "CurrentNumber",
        "MainMask": "CallWait",
        "Objects": "Queue",
        "Subject": "DNAction",
        "Description": "Pacing: interactions waiting in the virtual queue now.",
    },
}

#: the section of Stat Server's options that holds the filters (key = filter name, value = expression)
FILTERS_SECTION = "filters"

#: filter name → expression: interactions GPE started proactively carry this attached-data pair (ours)
FILTERS: dict[str, str] = {
    "PACS_Proactive_Interaction": "PairExists(_pacing_proactive)",
}
