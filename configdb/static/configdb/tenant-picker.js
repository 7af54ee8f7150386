/* Pickers scoped to the form's tenant (configdb.admin.accounts.TenantAutocompleteSelect): when the tenant field
   changes, each picker's search URL gets the new ?tenant= and its select2 is set up again (Django's autocomplete
   reads the URL once). The empty row Django clones for "Add another" gets the new URL too. */
(function () {
  "use strict";

  function retarget($, tenantId) {
    document.querySelectorAll("select[data-tenant-scoped]").forEach(function (select) {
      var base = select.dataset.tenantScoped;
      var url = tenantId ? base + "?tenant=" + encodeURIComponent(tenantId) : base;
      if (select.getAttribute("data-ajax--url") === url) { return; }
      select.setAttribute("data-ajax--url", url);
      var $select = $(select);
      if ($select.hasClass("select2-hidden-accessible")) {
        $select.select2("destroy");
        $select.djangoAdminSelect2();
      }
    });
  }

  function init($) {
    $(document).on("change", "select#id_tenant", function () { retarget($, this.value); });
  }

  if (window.django && window.django.jQuery) {
    init(window.django.jQuery);
  }
})();
