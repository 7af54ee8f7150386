"""The admin's template import page: GAX's *Import Application Template* and *Import Metadata*.

configdb's ApplicationTemplate admin is extended here, not there, because the import lives in provisioning and
imports may only point down (provisioning → configdb): the same admin, registered again with an *Import
template* button on its list and the upload page. The page calls provisioning.templates.service, as the
command and the API do.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from configdb.admin.environment import ApplicationTemplateAdmin
from configdb.models import ApplicationTemplate

from . import service
from .files import MAX_FILE_BYTES


class TemplateImportForm(forms.Form):
    apd = forms.FileField(label="Application template file (.apd)",
                          help_text="Name, type, version and default options (docs/templates.md).")
    metadata = forms.FileField(label="Application metadata file (.xml)", required=False,
                               help_text="Descriptions, types, defaults and valid values of the options.")
    defaults = forms.FileField(label="Default options (plain text)", required=False,
                               help_text="Optional: GAX's plain-text option export ([section] / key=value), used "
                                         "as the default options instead of the .apd's.")


class TemplateImportAdmin(ApplicationTemplateAdmin):
    change_list_template = "admin/provisioning/applicationtemplate/change_list.html"

    def get_urls(self):
        view = path("import/", self.admin_site.admin_view(self.import_view), name="configdb_applicationtemplate_import")
        return [view, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.has_add_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TemplateImportForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                data = {}
                for field in ("apd", "metadata", "defaults"):
                    upload = form.cleaned_data.get(field)
                    if upload:
                        data[field] = (service.read_upload(upload, upload.name, upload.size), upload.name)
                apd, apd_name = data["apd"]
                xml, xml_name = data.get("metadata", (None, ""))
                defaults, defaults_name = data.get("defaults", (None, ""))
                result = service.import_template(apd, xml, user=request.user, apd_name=apd_name, xml_name=xml_name,
                                                 defaults_bytes=defaults, defaults_name=defaults_name)
            except service.TemplateError as exc:
                problems = exc.messages
            except ValidationError as exc:
                problems = service.validation_messages(exc, data["apd"][1])
            except PermissionDenied as exc:
                problems = [str(exc)]
            else:
                template = result.template
                if result.created:
                    self.log_addition(request, template, [{"added": {}}])
                else:
                    self.log_change(request, template, [{"changed": {"fields": ["imported from files"]}}])
                self.message_user(request, result.summary, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:configdb_applicationtemplate_change", args=[template.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import application template",
            "opts": self.opts,
            "form": form,
            "problems": problems,
            "limit_mib": MAX_FILE_BYTES // (1024 * 1024),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/provisioning/applicationtemplate/import.html", context,
                                status=400 if problems or form.errors else 200)


admin.site.unregister(ApplicationTemplate)
admin.site.register(ApplicationTemplate, TemplateImportAdmin)
