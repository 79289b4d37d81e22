from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "govreq.review"
    label = "review"
    verbose_name = "case-by-case review"
