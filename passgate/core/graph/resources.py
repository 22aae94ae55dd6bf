"""The Graph resources Passgate serves, declared once (see ``schema.py``).

Property names, defaults ("returned by default" vs. "only on $select") and required-on-create sets follow the
Microsoft Graph v1.0 ``user`` and ``group`` resource pages and the Create user / Create group pages.
Graph properties Passgate does not keep are listed as ``UNSUPPORTED``: returned as null (or []) so SDK models
deserialize unchanged, and refused with a clear 400 when a request tries to set them.
"""

from __future__ import annotations

from passgate.core.graph.schema import Kind, Prop, Resource, Write

EQ = frozenset({"eq"})
EQ_STARTSWITH = frozenset({"eq", "startswith"})
# Graph's directory objects: "in" wherever "eq" works, "ne" too (with the advanced query parameters)
# (https://learn.microsoft.com/graph/aad-advanced-queries)
EQ_IN_NE = frozenset({"eq", "in", "ne"})
EQ_IN_NE_STARTSWITH = EQ_IN_NE | {"startswith"}


def _unsupported(name: str, kind: Kind = Kind.STRING) -> Prop:
    listed = kind in (Kind.STRING_LIST, Kind.OBJECT_LIST)
    return Prop(name, kind, f"Not kept by Passgate (always {'[]' if listed else 'null'}).",
                create=Write.UNSUPPORTED, nullable=not listed,
                schema={"type": "array", "maxItems": 0} if kind is Kind.OBJECT_LIST else None)


USER = Resource(
    type_name="microsoft.graph.user", entity="User", entity_set="users",
    description="A person in the directory. Passgate has no passwords: people sign in with passkeys.",
    props=(
        Prop("id", Kind.GUID, "The immutable object id.", filter=EQ_IN_NE),
        _unsupported("businessPhones", Kind.STRING_LIST),
        Prop("displayName", Kind.STRING, "The name shown for the user.", create=Write.REQUIRED, update=True,
             max_length=256, filter=EQ_IN_NE_STARTSWITH),
        _unsupported("givenName"),
        _unsupported("jobTitle"),
        _unsupported("mail"),
        _unsupported("mobilePhone"),
        _unsupported("officeLocation"),
        _unsupported("preferredLanguage"),
        _unsupported("surname"),
        Prop("userPrincipalName", Kind.STRING, "The sign-in name, alias@domain; may change (passkeys stay).",
             create=Write.REQUIRED, update=True, max_length=113, filter=EQ_IN_NE_STARTSWITH),
        Prop("accountEnabled", Kind.BOOLEAN, "Whether the user may sign in. Returned only on $select.",
             default=False, create=Write.REQUIRED, update=True, filter=EQ_IN_NE),
        Prop("mailNickname", Kind.STRING, "The mail alias. Returned only on $select.", default=False,
             create=Write.REQUIRED, update=True, max_length=64, filter=EQ_IN_NE_STARTSWITH),
        Prop("createdDateTime", Kind.DATETIME, "When the user was created (UTC). Returned only on $select.",
             default=False),
        Prop("signInSessionsValidFromDateTime", Kind.DATETIME,
             "Sessions and app refresh tokens issued before this time (UTC) are invalid: set by "
             "revokeSignInSessions and by disabling the account; null if never. Returned only on $select.",
             default=False, nullable=True),
        Prop("passwordProfile", Kind.OBJECT,
             "Accepted on create for compatibility and ignored: Passgate has no passwords. Issue a Temporary "
             "Access Pass so the user can add a passkey.",
             default=False, create=Write.OPTIONAL, nullable=True, ignored_on_create=True,
             update_refusal="Passgate has no passwords, so 'passwordProfile' cannot be changed. Issue a Temporary "
                            "Access Pass instead."),
    ),
    # Graph sorts users by these two by default (advanced-query page, "Support for sorting")
    orderable=("displayName", "userPrincipalName"),
    searchable=("displayName", "userPrincipalName", "mailNickname"),
    directory=True,
)

GROUP = Resource(
    type_name="microsoft.graph.group", entity="Group", entity_set="groups",
    description="A security group (Passgate has no Microsoft 365, mail-enabled or dynamic groups).",
    props=(
        Prop("id", Kind.GUID, "The immutable object id.", filter=EQ),
        Prop("createdDateTime", Kind.DATETIME, "When the group was created (UTC)."),
        Prop("description", Kind.STRING, "An optional description.", create=Write.OPTIONAL, update=True,
             max_length=1024, nullable=True),
        Prop("displayName", Kind.STRING, "The group's name (unique in Passgate).", create=Write.REQUIRED,
             update=True, max_length=256, filter=EQ_STARTSWITH),
        Prop("groupTypes", Kind.STRING_LIST, "Always []: a security group with assigned membership.",
             create=Write.OPTIONAL, allowed=(),
             refusal="Passgate has security groups with assigned members only: 'Unified' (Microsoft 365) and "
                     "'DynamicMembership' groups are not supported; send [] or leave it out."),
        _unsupported("mail"),
        Prop("mailEnabled", Kind.BOOLEAN, "Always false: Passgate groups have no mailbox.",
             create=Write.REQUIRED, update=True, allowed=(False,),
             refusal="Passgate has no mail-enabled groups: set mailEnabled to false."),
        Prop("mailNickname", Kind.STRING, "The mail alias (required by Graph; not used for mail).",
             create=Write.REQUIRED, update=True, max_length=64, filter=EQ_STARTSWITH),
        Prop("securityEnabled", Kind.BOOLEAN, "Always true: every Passgate group is a security group.",
             create=Write.REQUIRED, update=True, allowed=(True,),
             refusal="Passgate groups are security groups: set securityEnabled to true."),
        # the rest of Graph's default properties (group resource page, "Returned by default")
        *[_unsupported(name) for name in ("classification", "membershipRule", "membershipRuleProcessingState",
                                          "onPremisesDomainName", "onPremisesNetBiosName",
                                          "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
                                          "preferredDataLocation", "preferredLanguage", "securityIdentifier",
                                          "theme", "visibility")],
        *[_unsupported(name, Kind.DATETIME) for name in ("deletedDateTime", "expirationDateTime",
                                                         "onPremisesLastSyncDateTime", "renewedDateTime")],
        *[_unsupported(name, Kind.BOOLEAN) for name in ("isAssignableToRole", "onPremisesSyncEnabled")],
        *[_unsupported(name, Kind.STRING_LIST) for name in ("proxyAddresses", "resourceBehaviorOptions",
                                                            "resourceProvisioningOptions")],
        *[_unsupported(name, Kind.OBJECT_LIST) for name in ("onPremisesProvisioningErrors",
                                                            "serviceProvisioningErrors")],
    ),
    binds_on_create=("members@odata.bind", "owners@odata.bind"),
    binds_on_update=("members@odata.bind",),
)


# --- a user's authentication methods (``/users/{id}/authentication/...``): what Graph answers, and what a POST takes

def _read(name: str, kind: Kind, description: str, *, nullable: bool = False,
          allowed: tuple[object, ...] | None = None) -> Prop:
    return Prop(name, kind, description, nullable=nullable, allowed=allowed)


_METHOD_ID = _read("id", Kind.GUID, "The method's id.")
_CREATED = _read("createdDateTime", Kind.DATETIME, "When it was added (UTC).", nullable=True)

FIDO2_METHOD = Resource(
    type_name="microsoft.graph.fido2AuthenticationMethod", entity="Fido2AuthenticationMethod", entity_set="",
    description="A passkey (FIDO2). POST registers one made from creationOptions on the user's behalf.",
    props=(
        _METHOD_ID,
        Prop("displayName", Kind.STRING, "The passkey's name (1-64 characters; a default name if left out).",
             create=Write.OPTIONAL, nullable=True),
        _CREATED,
        _read("aaGuid", Kind.GUID, "The authenticator model's AAGUID."),
        _read("model", Kind.STRING, "The model's name from FIDO metadata, or null.", nullable=True),
        _read("attestationCertificates", Kind.STRING_LIST, "Thumbprints of the attestation certificates."),
        _read("attestationLevel", Kind.STRING, "attested or notAttested.", allowed=("attested", "notAttested")),
        _read("passkeyType", Kind.STRING, "synced (backup eligible) or deviceBound.",
              allowed=("deviceBound", "synced")),
        Prop("publicKeyCredential", Kind.OBJECT,
             "Graph's webauthnPublicKeyCredential: id, response (clientDataJSON, attestationObject), "
             "clientExtensionResults. Only in a POST body.", default=False, create=Write.REQUIRED),
    ),
)

SOFTWARE_OATH_METHOD = Resource(
    type_name="microsoft.graph.softwareOathAuthenticationMethod", entity="SoftwareOathAuthenticationMethod",
    entity_set="", description="An authenticator app (TOTP). Its secret is never returned.",
    props=(
        _METHOD_ID,
        _read("secretKey", Kind.STRING, "Always null: the secret is never returned.", nullable=True),
        _CREATED,
    ),
)

TAP_METHOD = Resource(
    type_name="microsoft.graph.temporaryAccessPassAuthenticationMethod",
    entity="TemporaryAccessPassAuthenticationMethod", entity_set="",
    description="A Temporary Access Pass. The pass itself is in temporaryAccessPass of the POST answer only.",
    props=(
        _METHOD_ID,
        _read("temporaryAccessPass", Kind.STRING, "The pass: in the POST answer only, null afterwards.",
              nullable=True),
        _CREATED,
        Prop("startDateTime", Kind.DATETIME, "When it becomes usable (default: now).", create=Write.OPTIONAL,
             nullable=True),
        Prop("lifetimeInMinutes", Kind.INTEGER, "Minutes it stays usable (the policy's default and bounds apply).",
             create=Write.OPTIONAL, nullable=True),
        Prop("isUsableOnce", Kind.BOOLEAN, "One-time (default) or usable until it expires.", create=Write.OPTIONAL,
             nullable=True),
        _read("isUsable", Kind.BOOLEAN, "Whether it can be used now."),
        _read("methodUsabilityReason", Kind.STRING, "Why it is or isn't usable now.",
              allowed=("EnabledByPolicy", "DisabledByPolicy", "Expired", "NotYetValid", "OneTimeUsed")),
    ),
)
