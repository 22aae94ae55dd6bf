"""The admin centre's URLs, all under /admin (included from passgate.web.urls)."""

from django.urls import path
from django.views.generic.base import RedirectView

from passgate.web.views.admin import audit, conditional_access, groups, methods, reports, signins, users

urlpatterns = [
    path("admin", audit.overview),
    path("admin/", RedirectView.as_view(url="/admin")),
    path("admin/users", users.users_list),
    path("admin/users/new", users.user_new),
    path("admin/users/<uuid:user_id>", users.user_detail),
    path("admin/users/<uuid:user_id>/upn", users.user_upn),
    path("admin/users/<uuid:user_id>/account", users.user_account),
    path("admin/users/<uuid:user_id>/delete", users.user_delete),
    path("admin/users/<uuid:user_id>/tap", users.tap_issue),
    path("admin/users/<uuid:user_id>/passkeys/<uuid:passkey_id>", users.passkey_detail),
    path("admin/users/<uuid:user_id>/passkeys/<uuid:passkey_id>/delete", users.passkey_delete),
    path("admin/users/<uuid:user_id>/authenticator-app/<uuid:method_id>/delete", users.authenticator_app_delete),
    path("admin/groups", groups.groups_list),
    path("admin/groups/new", groups.group_new),
    path("admin/groups/<uuid:group_id>", groups.group_detail),
    path("admin/groups/<uuid:group_id>/members", groups.member_add),
    path("admin/groups/<uuid:group_id>/members/<uuid:user_id>/remove", groups.member_remove),
    path("admin/groups/<uuid:group_id>/delete", groups.group_delete),
    path("admin/methods", methods.methods_list),
    path("admin/methods/passkey", methods.passkey_method),
    path("admin/methods/temporary-access-pass", methods.tap_method),
    path("admin/methods/authenticator-app", methods.authenticator_app_method),
    path("admin/audit", audit.audit_log),
    path("admin/sign-ins", signins.sign_ins),
    path("admin/sign-ins/<uuid:signin_id>", signins.sign_in_detail),
    path("admin/reports/untrusted-models", reports.untrusted_models),
    path("admin/conditional-access", conditional_access.ca_list),
    path("admin/conditional-access/new", conditional_access.ca_new),
    path("admin/conditional-access/what-if", conditional_access.what_if),
    path("admin/conditional-access/strengths", conditional_access.strengths_list),
    path("admin/conditional-access/strengths/new", conditional_access.strength_new),
    path("admin/conditional-access/strengths/<uuid:strength_id>", conditional_access.strength_edit),
    path("admin/conditional-access/strengths/<uuid:strength_id>/delete", conditional_access.strength_delete_page),
    path("admin/conditional-access/<uuid:policy_id>", conditional_access.ca_edit),
    path("admin/conditional-access/<uuid:policy_id>/delete", conditional_access.ca_delete_page),
]
