/* The connection inline's port ID: a choice of the chosen server's ports, refreshed when the server changes.
   The server is Django's autocomplete (select2), which announces a change through jQuery, hence django.jQuery;
   the ports come from ApplicationAdmin.ports_view (JSON, permission-checked). */
(function () {
  "use strict";

  function portSelectFor(serverSelect) {
    var name = serverSelect.name.replace(/-server$/, "-port_id");
    return document.querySelector("select.connection-port[name='" + name + "']");
  }

  function fill(select, ports) {
    var keep = select.value;
    var ids = ports.map(function (port) { return port.id; });
    select.innerHTML = "";
    select.appendChild(new Option("---------", ""));
    ports.forEach(function (port) { select.appendChild(new Option(port.label, port.id)); });
    if (ids.indexOf(keep) !== -1) {
      select.value = keep;
    } else if (ids.indexOf("default") !== -1) {
      select.value = "default";
    } else {
      select.value = ids.length ? ids[0] : "";
    }
    select.dispatchEvent(new Event("change", {bubbles: true}));
  }

  function refresh(serverSelect) {
    var select = portSelectFor(serverSelect);
    if (!select) { return; }
    var id = serverSelect.value;
    if (!id) { fill(select, []); return; }
    select.disabled = true;
    fetch(select.dataset.portsUrl.replace("{id}", encodeURIComponent(id)),
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {ports: []}; })
      .then(function (data) { fill(select, data.ports || []); })
      .catch(function () { fill(select, []); })
      .finally(function () { select.disabled = false; });
  }

  function init($) {
    $(document).on("change", "select[name^='connections-'][name$='-server']", function () { refresh(this); });
  }

  if (window.django && window.django.jQuery) {
    init(window.django.jQuery);
  }
})();
