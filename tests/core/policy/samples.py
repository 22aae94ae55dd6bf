"""Request and response bodies exactly as Microsoft documents them (JSON text copied, comments removed).

Sources (checked 2026):
- FIDO2_GET_V1: microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/api/
  fido2authenticationmethodconfiguration-get.md, "Response" (written before passkey profiles existed).
- FIDO2_UPDATE_V1: https://learn.microsoft.com/en-us/graph/api/fido2authenticationmethodconfiguration-update
  ?view=graph-rest-1.0 (Sitemap-Last-Modified 2026-04-15), "Request".
- FIDO2_UPDATE_V1_OLD: the same page's request in microsoft-graph-docs-contrib before passkey profiles
  (note the string "true").
- AUTHENTICATOR_ONLY: MicrosoftDocs/entra-docs, docs/identity/authentication/how-to-enable-authenticator-passkey.md,
  "Enable passkeys in Authenticator by using Graph Explorer" (its "<insert previous AAGUIDs here ...>"
  placeholder removed). The page lists the AAGUIDs: Authenticator for Android
  de1e552d-db1d-4423-a619-566b625cdc84, Authenticator for iOS 90a3ccdf-635c-4729-a248-9b709135078f.
- NEW_PROFILE_WINDOWS_HELLO: Microsoft's support wiki "FIDO2: Passkey Profiles in Entra ID", "Create a New
  Passkey Profile (API)" (beta URL, same body shape as v1.0; "//" comments removed).
- TAP_GET_V1: microsoft-graph-docs-contrib, api-reference/v1.0/api/
  temporaryaccesspassauthenticationmethodconfiguration-get.md, "Response".
- SOFTWARE_OATH_GET_V1: microsoft-graph-docs-contrib, api-reference/v1.0/api/
  softwareoathauthenticationmethodconfiguration-get.md, "Response" (the object inside its "value").
- POLICY_UPDATE_V1: microsoft-graph-docs-contrib, api-reference/v1.0/api/authenticationmethodspolicy-update.md,
  "Request".
"""

from __future__ import annotations

import json
from typing import Any

MS_AUTHENTICATOR_IOS = "90a3ccdf-635c-4729-a248-9b709135078f"
MS_AUTHENTICATOR_ANDROID = "de1e552d-db1d-4423-a619-566b625cdc84"
WINDOWS_HELLO = ("08987058-cadc-4b81-b6e1-30de50dcbe96", "9ddd1817-af5a-4672-a2b9-3e3dd95000a9",
                 "6028b017-b1d4-4c02-b4b3-afcdafc96bb2")


def load(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


FIDO2_GET_V1 = """
{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#authenticationMethodConfigurations/$entity",
    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "id": "Fido2",
    "state": "disabled",
    "isSelfServiceRegistrationAllowed": true,
    "isAttestationEnforced": true,
    "keyRestrictions": {
        "isEnforced": false,
        "enforcementType": "block",
        "aaGuids": []
    },
    "includeTargets": [
        {
            "targetType": "group",
            "id": "all_users",
            "isRegistrationRequired": false
        }
    ],
    "excludeTargets": []
}
"""

FIDO2_UPDATE_V1 = """
{
    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "id": "Fido2",
    "state": "disabled",
    "isSelfServiceRegistrationAllowed": true,
    "isAttestationEnforced": true,
    "keyRestrictions": {
        "isEnforced": false,
        "enforcementType": "block",
        "aaGuids": []
    },
    "includeTargets": [
        {
            "targetType": "group",
            "id": "all_users",
            "isRegistrationRequired": false,
            "allowedPasskeyProfiles": [
                "00000000-0000-0000-0000-000000000001"
            ]
        }
    ],
    "excludeTargets": [],
    "passkeyProfiles": [
        {
            "id": "00000000-0000-0000-0000-000000000001",
            "name": "Default passkey profile",
            "passkeyTypes": "deviceBound,synced",
            "attestationEnforcement": "disabled",
            "keyRestrictions": {
                "isEnforced": false,
                "enforcementType": "allow",
                "aaGuids": [
                ]
            }
        }
    ]
}
"""

FIDO2_UPDATE_V1_OLD = """
{
    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "state": "enabled",
    "isAttestationEnforced": "true"
}
"""

AUTHENTICATOR_ONLY = """
{
    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "isAttestationEnforced": false,
    "keyRestrictions": {
        "isEnforced": true,
        "enforcementType": "allow",
        "aaGuids": [
            "90a3ccdf-635c-4729-a248-9b709135078f",
            "de1e552d-db1d-4423-a619-566b625cdc84"
        ]
    }
}
"""

NEW_PROFILE_WINDOWS_HELLO = """
{
    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "passkeyProfiles": [
        {
            "id": "00000000-0000-0000-0000-000000000001",
            "name": "Default passkey profile",
            "passkeyTypes": "deviceBound",
            "attestationEnforcement": "disabled",
            "keyRestrictions": {
                "isEnforced": false,
                "enforcementType": "allow",
                "aaGuids": []
            }
        },
        {
            "name": "EPOW passkey profile",
            "passkeyTypes": "deviceBound",
            "attestationEnforcement": "registrationOnly",
            "keyRestrictions": {
                "isEnforced": true,
                "enforcementType": "allow",
                "aaGuids": [
                    "08987058-cadc-4b81-b6e1-30de50dcbe96",
                    "9ddd1817-af5a-4672-a2b9-3e3dd95000a9",
                    "6028b017-b1d4-4c02-b4b3-afcdafc96bb2"
                ]
            }
        }
    ]
}
"""

TAP_GET_V1 = """
{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#authenticationMethodConfigurations/$entity",
    "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
    "id": "TemporaryAccessPass",
    "state": "enabled",
    "defaultLifetimeInMinutes": 60,
    "defaultLength": 8,
    "minimumLifetimeInMinutes": 60,
    "maximumLifetimeInMinutes": 480,
    "isUsableOnce": false,
    "includeTargets@odata.context": "INCLUDE_TARGETS_CONTEXT",
    "includeTargets": [
        {
            "targetType": "group",
            "id": "all_users",
            "isRegistrationRequired": false
        }
    ],
    "excludeTargets": []
}
""".replace("INCLUDE_TARGETS_CONTEXT",
            "https://graph.microsoft.com/beta/$metadata#policies/authenticationMethodsPolicy/"
            "authenticationMethodConfigurations('TemporaryAccessPass')/"
            "microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration/includeTargets")

SOFTWARE_OATH_GET_V1 = """
{
    "@odata.type": "#microsoft.graph.softwareOathAuthenticationMethodConfiguration",
    "id": "SoftwareOath",
    "state": "enabled",
    "includeTargets": [
      {
          "targetType": "group",
          "id": "all_users",
          "isRegistrationRequired": false
      }
    ],
    "excludeTargets": []
}
"""

POLICY_UPDATE_V1 = """
{
  "registrationEnforcement": {
    "authenticationMethodsRegistrationCampaign": {
        "snoozeDurationInDays": 1,
        "state": "enabled",
        "excludeTargets": [],
        "includeTargets": [
            {
                "id": "3ee3a9de-0a86-4e12-a287-9769accf1ba2",
                "targetType": "group",
                "targetedAuthenticationMethod": "microsoftAuthenticator"
            }
        ]
    }
  }
}
"""
