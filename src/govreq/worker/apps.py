from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "govreq.worker"
    label = "worker"
    verbose_name = "background worker: tasks and the schedule"
