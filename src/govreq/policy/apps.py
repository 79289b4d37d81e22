from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "govreq.policy"
    label = "policy"
    verbose_name = "review policy"
