from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and API keys"

    def ready(self):
        from accounts.audit import Actor, audit_record
        from core.audit import AuditHooks, register_audit

        # labelhub (the webhooks) audits its changes through this hook: it may not import accounts.
        register_audit(AuditHooks(record=audit_record, actor_of_request=Actor.of_request))
