from django.apps import AppConfig


class DataRequestsConfig(AppConfig):
    name = "accord.data_requests"
    label = "data_requests"
    verbose_name = "Data requests"
