from django.urls import include, path

from passgate.web.views import authenticator_app, device, oidc, ops, registration, security_info, signin, stepup

urlpatterns = [
    path("", signin.home),
    path("healthz", ops.healthz),  # answered by passgate.web.ops.OpsEndpointsMiddleware first
    path("readyz", ops.readyz),
    path("metrics", ops.metrics),
    path("signin", signin.signin_page),
    path("signin/passkey/options", signin.passkey_options),
    path("signin/passkey/verify", signin.passkey_verify),
    path("signin/tap", signin.tap_page),
    path("signin/reauth", signin.reauth_page),
    path("signin/reauth/options", signin.reauth_options),
    path("signin/reauth/verify", signin.reauth_verify),
    path("signin/reauth/tap", signin.reauth_tap),
    path("signin/reauth/code", signin.reauth_code),
    path("signin/step-up", stepup.page),
    path("signin/add-passkey", registration.page),
    path("signin/step-up/options", stepup.passkey_options),
    path("signin/step-up/verify", stepup.passkey_verify),
    path("signout", signin.signout),
    path("security-info", security_info.page),
    path("security-info/passkeys/options", security_info.passkey_options),
    path("security-info/passkeys/verify", security_info.passkey_verify),
    path("security-info/passkeys/<uuid:passkey_id>/rename", security_info.passkey_rename),
    path("security-info/passkeys/<uuid:passkey_id>/delete", security_info.passkey_delete),
    path("security-info/sign-out-everywhere", security_info.sign_out_everywhere),
    path("security-info/redundancy-nudge/dismiss", security_info.redundancy_nudge_dismiss),
    path("security-info/authenticator-app/new", authenticator_app.add),
    path("security-info/authenticator-app/<uuid:method_id>/delete", authenticator_app.delete),
    # the OpenID Connect provider (ADR 0005)
    path(".well-known/openid-configuration", oidc.discovery),
    path("<str:tenant>/v2.0/.well-known/openid-configuration", oidc.tenant_discovery),  # MSAL, for Graph apps
    path("oidc/authorize", oidc.authorize),
    path(".well-known/oauth-authorization-server", oidc.authorization_server_metadata),  # RFC 8414
    path("oidc/token", oidc.token),
    path("oidc/revoke", oidc.revoke),  # RFC 7009
    path("oidc/device_authorization", oidc.device_authorization),  # RFC 8628
    path("device", device.page),  # RFC 8628 §3.3: the verification page
    path("oidc/introspect", oidc.introspect),  # RFC 7662
    path("oidc/userinfo", oidc.userinfo),
    path("oidc/jwks", oidc.jwks),
    path("oidc/logout", oidc.logout),
    path("oidc/logout/confirm", oidc.logout_confirm),
    path("", include("passgate.web.views.admin.urls")),  # the admin centre, /admin...
]
