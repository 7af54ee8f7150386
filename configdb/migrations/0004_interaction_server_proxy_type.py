"""Interaction Server Proxy is no application type of its own (seed: proxies are created "using the Interaction
Server application type", interaction-server-deployment.txt step 3).

Applications of the older type ``interaction_server_proxy`` become Interaction Servers whose component type is
``Interaction Server Proxy`` (configdb.interaction_server.PROXY_COMPONENT; a component type already set is kept).
Application templates of that type become Interaction Server templates (ours: a template has no component type;
the applications created from it carry the mark, and the model requires an application's type to be its
template's, so both move together). The values are written here, not imported, so that the migration keeps
meaning what it meant when later code changes. Backwards: only the applications marked as proxies (and the
templates they use) go back to the old type.

Also: a DAP's unknown DBMS type is refused with the list of the known ones (an error message, no schema change).
"""

from django.db import migrations, models

LEGACY, SERVER, PROXY_COMPONENT = "interaction_server_proxy", "interaction_server", "Interaction Server Proxy"


def forwards(apps, schema_editor):
    Application = apps.get_model("configdb", "Application")
    ApplicationTemplate = apps.get_model("configdb", "ApplicationTemplate")
    Application.objects.filter(app_type=LEGACY, component_type="").update(component_type=PROXY_COMPONENT)
    Application.objects.filter(app_type=LEGACY).update(app_type=SERVER)
    ApplicationTemplate.objects.filter(app_type=LEGACY).update(app_type=SERVER)


def backwards(apps, schema_editor):
    Application = apps.get_model("configdb", "Application")
    ApplicationTemplate = apps.get_model("configdb", "ApplicationTemplate")
    proxies = Application.objects.filter(app_type=SERVER, component_type=PROXY_COMPONENT)
    template_ids = set(proxies.values_list("template_id", flat=True))
    servers_too = set(Application.objects.filter(template_id__in=template_ids, app_type=SERVER)
                      .exclude(component_type=PROXY_COMPONENT).values_list("template_id", flat=True))
    only_proxies = template_ids - servers_too
    ApplicationTemplate.objects.filter(pk__in=only_proxies).update(app_type=LEGACY)
    proxies.filter(template_id__in=only_proxies).update(app_type=LEGACY)


class Migration(migrations.Migration):

    dependencies = [
        ('configdb', '0003_port_tls_and_annex_help'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.AlterField(
            model_name='application',
            name='app_type',
            field=models.CharField(blank=True, choices=[('application_cluster', 'Application Cluster'), ('genesys_generic_server', 'Genesys Generic Server'), ('genesys_generic_client', 'Genesys Generic Client'), ('stat_server', 'Stat Server'), ('message_server', 'Message Server'), ('interaction_server', 'Interaction Server'), ('universal_routing_server', 'Universal Routing Server'), ('orchestration_server', 'Orchestration Server'), ('database_access_point', 'Database Access Point'), ('db_server', 'DB Server'), ('configuration_server', 'Configuration Server'), ('solution_control_server', 'Solution Control Server'), ('t_server', 'T-Server'), ('sip_server', 'SIP Server'), ('chat_server', 'Chat Server'), ('email_server', 'E-mail Server'), ('interaction_concentrator', 'Interaction Concentrator'), ('genesys_administrator_server', 'Genesys Administrator Server'), ('third_party_server', 'Third Party Server')], help_text='Taken from the template when left empty; fixed after creation.', max_length=40, verbose_name='type'),
        ),
        migrations.AlterField(
            model_name='applicationtemplate',
            name='app_type',
            field=models.CharField(choices=[('application_cluster', 'Application Cluster'), ('genesys_generic_server', 'Genesys Generic Server'), ('genesys_generic_client', 'Genesys Generic Client'), ('stat_server', 'Stat Server'), ('message_server', 'Message Server'), ('interaction_server', 'Interaction Server'), ('universal_routing_server', 'Universal Routing Server'), ('orchestration_server', 'Orchestration Server'), ('database_access_point', 'Database Access Point'), ('db_server', 'DB Server'), ('configuration_server', 'Configuration Server'), ('solution_control_server', 'Solution Control Server'), ('t_server', 'T-Server'), ('sip_server', 'SIP Server'), ('chat_server', 'Chat Server'), ('email_server', 'E-mail Server'), ('interaction_concentrator', 'Interaction Concentrator'), ('genesys_administrator_server', 'Genesys Administrator Server'), ('third_party_server', 'Third Party Server')], max_length=40, verbose_name='type'),
        ),
        migrations.AlterField(
            model_name='databaseaccesspoint',
            name='dbms_type',
            field=models.CharField(choices=[('mssql', 'Microsoft SQL Server'), ('oracle', 'Oracle'), ('postgre', 'PostgreSQL'), ('db2', 'DB2'), ('mysql', 'MySQL'), ('informix', 'Informix'), ('sybase', 'Sybase')], error_messages={'invalid_choice': '%(value)r is not a DBMS type: one of mssql (Microsoft SQL Server), oracle (Oracle), postgre (PostgreSQL), db2 (DB2), mysql (MySQL), informix (Informix), sybase (Sybase).'}, max_length=16, verbose_name='DBMS type'),
        ),
    ]
