"""Small builders for valid objects, so each test states only what it is about."""

from configdb import services
from configdb.models import Application, ApplicationTemplate, ApplicationType, Host, Port, Switch


def template(tenant, name="T_Generic", app_type=ApplicationType.GENESYS_GENERIC_SERVER, **extra):
    return services.save_object(ApplicationTemplate(tenant=tenant, name=name, app_type=app_type,
                                                    version="9.0.0", **extra))


def host(tenant, name="host1"):
    return Host.objects.get_or_create(name=name, defaults={"tenant": tenant})[0]


def application(tenant, name, tmpl=None, ports=(("default", 9081),), **extra):
    tmpl = tmpl or template(tenant, name=f"T_{name}")
    app = Application(tenant=tenant, name=name, template=tmpl, host=host(tenant), working_directory=".",
                      command_line=".", **extra)
    services.save_object(app)
    for port_id, number in ports:
        services.save_object(Port(application=app, port_id=port_id, port=number))
    return app


def switch(tenant, name="SW1"):
    return services.save_object(Switch(tenant=tenant, name=name))
