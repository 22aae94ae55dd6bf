from django.urls import path

from passgate.device_api import views

urlpatterns = [
    path("device/v1/join", views.join, name="device-join"),
    path("device/v1/device", views.this_device, name="device-self"),
    path("device/v1/sync", views.sync, name="device-sync"),
    path("device/v1/keys/register/begin", views.register_begin, name="device-register-begin"),
    path("device/v1/keys/register/complete", views.register_complete, name="device-register-complete"),
    path("device/v1/signin/begin", views.signin_begin, name="device-signin-begin"),
    path("device/v1/signin/complete", views.signin_complete, name="device-signin-complete"),
]
