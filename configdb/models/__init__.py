"""The Configuration Server object model, one module per object family."""

from .access import Access, TenantGrant
from .agents import (
    AgentGroup,
    AgentGroupType,
    MediaType,
    OriginationDN,
    Person,
    Skill,
    SkillLevel,
    validate_skill_expression,
)
from .alarms import AlarmCategory, AlarmCondition, DetectSelection
from .applications import (
    Application,
    ApplicationTemplate,
    ApplicationTenant,
    ApplicationType,
    Connection,
    ConnectionProtocol,
    ListeningMode,
    Port,
    RedundancyType,
    TraceMode,
)
from .base import ConfigObject, FolderType, State
from .dap import DatabaseAccessPoint, DBMSType
from .fields import OptionsField
from .history import ChangeAction, ObjectChange
from .hosts import Host, OSType
from .jobs import ImportJob, JobState
from .switching import DN, DNType, RegisterFlag, RouteType, Switch, SwitchType, VirtualQueue
from .tenancy import Folder, Tenant
from .transactions import Transaction, TransactionType

__all__ = [
    "Access", "ChangeAction", "ObjectChange", "TenantGrant",
    "AgentGroup", "AgentGroupType", "AlarmCategory", "AlarmCondition", "Application", "ApplicationTemplate",
    "ApplicationTenant", "ApplicationType", "ConfigObject", "Connection", "ConnectionProtocol", "DBMSType", "DN",
    "DNType", "DatabaseAccessPoint", "DetectSelection", "Folder", "FolderType", "Host", "ImportJob", "JobState",
    "ListeningMode",
    "MediaType", "OSType", "OptionsField", "OriginationDN", "Person", "Port", "RedundancyType", "RegisterFlag",
    "RouteType", "Skill", "SkillLevel", "State", "Switch", "SwitchType", "Tenant", "TraceMode", "Transaction",
    "TransactionType", "VirtualQueue", "validate_skill_expression",
]
