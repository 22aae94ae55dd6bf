"""Graph's ``device`` resource as Passgate keeps it: computers joined to the directory (``passgate.core.devices``).

Properties from Microsoft Graph v1.0's ``device`` (https://learn.microsoft.com/graph/api/resources/device):
``deviceId`` is the id the device itself knows, ``id`` the directory object id. ``trustType`` is ``AzureAd``
for a joined device and ``ServerAd`` for a hybrid one. ``isManaged`` is true (Passgate's agent applies its
configuration), ``isCompliant`` null (Passgate evaluates no compliance policy). Devices are joined by the agent
(``passgate-device join``), not created through Graph; PATCH changes ``displayName`` and ``accountEnabled``.
"""

from __future__ import annotations

from passgate.core.graph.schema import Kind, Prop, Resource, Write

EQ = frozenset({"eq"})
EQ_STARTSWITH = frozenset({"eq", "startswith"})

def _empty(name: str, kind: Kind) -> Prop:
    listed = kind in (Kind.STRING_LIST, Kind.OBJECT_LIST)
    return Prop(name, kind, f"Not kept by Passgate (always {'[]' if listed else 'null'}).", create=Write.UNSUPPORTED,
                nullable=not listed, schema={"type": "array", "maxItems": 0} if kind is Kind.OBJECT_LIST else None)


DEVICE = Resource(
    type_name="microsoft.graph.device", entity="Device", entity_set="devices",
    description="A computer joined to the directory, which people may sign in to with a security key.",
    props=(
        Prop("id", Kind.GUID, "The directory object id.", filter=EQ),
        Prop("deviceId", Kind.STRING, "The id the device itself knows (a GUID).", filter=EQ),
        Prop("displayName", Kind.STRING, "The device's name.", create=Write.OPTIONAL, update=True, max_length=256,
             filter=EQ_STARTSWITH),
        Prop("accountEnabled", Kind.BOOLEAN, "False: the device can sign no one in and its requests are refused.",
             create=Write.OPTIONAL, update=True, filter=EQ),
        Prop("operatingSystem", Kind.STRING, "Linux.", filter=EQ),
        Prop("operatingSystemVersion", Kind.STRING, "As the device reported it when it joined."),
        Prop("trustType", Kind.STRING, "AzureAd (joined) or ServerAd (hybrid joined).", filter=EQ,
             allowed=("AzureAd", "ServerAd")),
        Prop("registrationDateTime", Kind.DATETIME, "When the device joined (UTC)."),
        Prop("approximateLastSignInDateTime", Kind.DATETIME, "When the device last called Passgate (to within five "
             "minutes); null if it never has since it joined.", nullable=True),
        Prop("isManaged", Kind.BOOLEAN, "Always true: Passgate's agent applies the device's configuration."),
        Prop("isCompliant", Kind.BOOLEAN, "Always null: Passgate evaluates no compliance policy.", nullable=True),
        # Graph's other device properties, which Passgate does not keep
        *[_empty(name, Kind.STRING) for name in ("deviceCategory", "deviceMetadata", "deviceOwnership",
                                                 "enrollmentProfileName", "enrollmentType", "managementType",
                                                 "manufacturer", "mdmAppId", "model", "onPremisesSecurityIdentifier",
                                                 "profileType")],
        *[_empty(name, Kind.DATETIME) for name in ("deletedDateTime", "complianceExpirationDateTime",
                                                   "onPremisesLastSyncDateTime")],
        *[_empty(name, Kind.BOOLEAN) for name in ("isManagementRestricted", "isRooted", "onPremisesSyncEnabled")],
        _empty("deviceVersion", Kind.INTEGER),
        *[_empty(name, Kind.STRING_LIST) for name in ("physicalIds", "systemLabels")],
        _empty("alternativeSecurityIds", Kind.OBJECT_LIST),
    ),
)
