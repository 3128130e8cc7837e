"""django-q2's list of successful tasks, its durations read as durations ("97 ms", not "0.096595").

django-q2 registers its own admin; ``CoreConfig.ready()`` (after every admin
module is loaded) puts this one in its place.
"""

from __future__ import annotations

from django.contrib import admin
from django_q.admin import TaskAdmin
from django_q.models import Success

from core.admin.display import duration_text


class SuccessfulTaskAdmin(TaskAdmin):
    @admin.display(description="time taken")
    def time_taken(self, obj) -> str:
        return duration_text(obj.time_taken())


def register_task_admins(site: admin.AdminSite = admin.site) -> None:
    if site.is_registered(Success):
        site.unregister(Success)
    site.register(Success, SuccessfulTaskAdmin)
