from django.urls import path

from govreq.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.request_list_view, name="requests"),
    path("sign-in", views.sign_in_view, name="sign-in"),
    path("sign-in/code", views.verify_view, name="verify"),
    path("sign-in/authenticator", views.authenticator_view, name="authenticator"),
    path(
        "sign-in/authenticator/set-up",
        views.authenticator_set_up_view,
        name="authenticator-set-up",
    ),
    path("sign-out", views.sign_out_view, name="sign-out"),
    path("request-access", views.request_access_view, name="request-access"),
    path("request-access/sent", views.request_access_sent_view, name="request-access-sent"),
    path("new", views.request_new_view, name="new"),
    path("new/review", views.request_review_view, name="review"),
    path("new/send", views.request_send_view, name="send"),
    path("new/sent/<uuid:request_id>", views.request_sent_view, name="sent"),
    path("requests/<uuid:request_id>", views.request_detail_view, name="request-detail"),
    path("requests/<uuid:request_id>/withdraw", views.withdraw_view, name="withdraw"),
    path("requests/<uuid:request_id>/extend", views.extend_view, name="extend"),
    path(
        "requests/<uuid:request_id>/gag-extensions",
        views.gag_extension_view,
        name="gag-extension",
    ),
    path(
        "requests/<uuid:request_id>/productions/<uuid:production_id>/package",
        views.package_view,
        name="package",
    ),
    path(
        "requests/<uuid:request_id>/clarifications/<int:clarification_id>/answer",
        views.answer_view,
        name="answer",
    ),
]
