// Caly's web app: the few behaviours pages need, in plain JavaScript. Forms marked data-api send
// JSON to the REST API with the session's CSRF token and show loading, success and the API's
// error message (field errors next to their fields); copy buttons; sign-out; the return to the
// page a user was on after signing in again.
(function () {
  "use strict";

  // The session's CSRF token: the cookie (current even after a refresh in another tab), else the
  // page's own.
  function csrf() {
    // Over https the cookie is __Host-caly_csrf.
    var found = document.cookie.split(";").map(function (c) { return c.trim(); })
      .filter(function (c) { return /^(__Host-)?caly_csrf=/.test(c); })[0];
    if (found) return decodeURIComponent(found.slice(found.indexOf("=") + 1));
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function nextTarget() {
    var next = new URLSearchParams(location.search).get("next") || "/";
    // Only a path on this site, as the browser reads it: never another origin.
    try {
      var url = new URL(next, location.origin);
      if (next.charAt(0) === "/" && url.origin === location.origin) {
        return url.pathname + url.search + url.hash;
      }
    } catch (e) { /* not a URL at all */ }
    return "/";
  }

  function toLogin() {
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
  }

  // One request to the API, with the session's cookies and CSRF token.
  function send(method, url, body) {
    var headers = { "Accept": "application/json", "X-CSRF-Token": csrf() };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: response.status, ok: response.ok, data: data };
      });
    });
  }

  // One renewal at a time: a refresh token is good once, and a second use of it signs the
  // session out, so requests refused together share the one renewal.
  var renewing = null;
  function renew() {
    if (!renewing) {
      renewing = send("POST", "/api/v1/auth/refresh").then(function (renewed) {
        renewing = null;
        return renewed.ok;
      });
    }
    return renewing;
  }

  // A request whose access cookie expired is sent again once the refresh cookie has renewed the
  // session (the refused request did nothing); only when that fails does the person sign in.
  function call(method, url, body) {
    return send(method, url, body).then(function (result) {
      if (result.status !== 401 || url.indexOf("/api/v1/auth/") === 0) return result;
      return renew().then(function (ok) { return ok ? send(method, url, body) : result; });
    });
  }

  // --- inline validation ----------------------------------------------------------------------
  function errorSlot(field) {
    var id = field.getAttribute("aria-describedby");
    var slot = id && document.getElementById(id);
    if (!slot) {
      slot = document.createElement("div");
      slot.className = "field-error";
      slot.id = "err-" + Math.random().toString(36).slice(2);
      field.setAttribute("aria-describedby", slot.id);
      field.insertAdjacentElement("afterend", slot);
    }
    return slot;
  }

  function showFieldError(field, message) {
    errorSlot(field).textContent = message || "";
    if (message) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  }

  function check(field) {
    if (!field.willValidate) return true;
    var match = field.dataset.match && field.form.elements[field.dataset.match];
    field.setCustomValidity(match && match.value !== field.value ? "The two passwords differ." : "");
    var ok = field.checkValidity();
    showFieldError(field, ok ? "" : (field.dataset.hint || field.validationMessage));
    return ok;
  }

  document.addEventListener("blur", function (event) {
    var field = event.target;
    if (field.form && field.form.dataset.api && field.name) check(field);
  }, true);
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field.getAttribute && field.getAttribute("aria-invalid") === "true") check(field);
  });

  // --- forms to JSON --------------------------------------------------------------------------
  function setPath(target, path, value) {
    var parts = path.split(".");
    var last = parts.pop();
    parts.forEach(function (p) { target = target[p] = target[p] || {}; });
    target[last] = value;
  }

  function getPath(target, path) {
    return path.split(".").reduce(function (at, p) { return at && at[p]; }, target);
  }

  function encode(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.disabled || field.dataset.skip !== undefined) return;
      var type = field.dataset.type || "";
      var value;
      if (field.type === "checkbox") {
        if (type === "list") {
          var list = getPath(body, field.name) || [];
          if (field.checked) list.push(field.value);
          setPath(body, field.name, list);
          return;
        }
        value = field.checked;
      } else if (field.type === "radio") {
        if (!field.checked) return;
        value = field.value;
      } else if (field.tagName === "SELECT" && field.multiple) {
        value = Array.prototype.filter.call(field.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        value = field.value;
        if (type === "csv") value = value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        if (value === "" && field.dataset.empty === "null") value = null;
        else if (value === "" && field.dataset.empty === "omit") return;
        else if (type === "int" && value !== null) value = parseInt(value, 10);
        else if (type === "bool") value = value === "true";
        else if (type === "rupees" && value !== null) value = Math.round(parseFloat(value) * 100);
      }
      setPath(body, field.name, value);
    });
    return body;
  }

  function setStatus(form, kind, message) {
    var status = form.querySelector(".status");
    if (!status) {
      status = document.createElement("div");
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      form.appendChild(status);
    }
    status.className = "status " + kind;
    status.textContent = message;
  }

  function after(form, data) {
    var then = form.dataset.then || "reload";
    if (then === "reload") return setTimeout(function () { location.reload(); }, 400);
    if (then === "next") { location.href = nextTarget(); return; }
    if (then.indexOf("go:") === 0) { location.href = then.slice(3); return; }
    if (then.indexOf("show:") === 0) {
      var spec = then.slice(5).split("@");
      var out = document.querySelector(spec[1]);
      if (out && data) {
        out.textContent = data[spec[0]];
        out.closest(".hidden") && out.closest(".hidden").classList.remove("hidden");
      }
    }
    if (then.indexOf("reveal:") === 0) {
      var section = document.querySelector(then.slice(7));
      if (!section) return;
      section.classList.remove("hidden");
      // Values the next step needs again (the email a code was sent to).
      (form.dataset.carry || "").split(",").filter(Boolean).forEach(function (name) {
        section.querySelectorAll('[name="' + name + '"]').forEach(function (field) {
          field.value = form.elements[name].value;
        });
      });
      var first = section.querySelector("input:not([type=hidden])");
      if (first) first.focus();
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset.api) return;
    event.preventDefault();
    var fields = Array.prototype.filter.call(form.elements, function (f) { return f.name; });
    var valid = fields.map(check).every(Boolean);
    if (!valid) {
      setStatus(form, "error", "Please correct the fields marked above.");
      return;
    }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    var button = form.querySelector("button[type=submit], button:not([type])");
    var label = button ? button.textContent : "";
    if (button) { button.disabled = true; button.textContent = form.dataset.busy || "Working…"; }
    form.setAttribute("aria-busy", "true");
    setStatus(form, "busy", form.dataset.busy || "Working…");
    var method = (form.dataset.method || "POST").toUpperCase();
    var body = method === "DELETE" && !form.elements.length ? undefined : encode(form);
    // `{name}` in the address takes that field's value (a member to add to a team).
    var url = form.dataset.api.replace(/\{(\w+)\}/g, function (_, name) {
      return encodeURIComponent(form.elements[name].value);
    });
    call(method, url, body).then(function (result) {
      if (button) { button.disabled = false; button.textContent = label; }
      form.removeAttribute("aria-busy");
      if (result.ok) {
        setStatus(form, "ok", form.dataset.success || "Done.");
        after(form, result.data);
        return;
      }
      if (result.status === 401 && !form.hasAttribute("data-public")) { toLogin(); return; }
      var error = (result.data && result.data.error) || {};
      var message = error.message || ("The request failed (HTTP " + result.status + ").");
      if (error.request_id) message += " (request " + error.request_id + ")";
      // Field errors go next to their fields; any without a field on this form join the message.
      var unplaced = [];
      Object.keys(error.fields || {}).forEach(function (name) {
        // The API names a nested field by its last part (`days` for `support_hours.days`).
        var field = form.elements[name] || Array.prototype.filter.call(form.elements, function (f) {
          return f.name && f.name.slice(-name.length - 1) === "." + name;
        })[0];
        if (field && field.nodeType === 1) showFieldError(field, error.fields[name]);
        else unplaced.push(name + ": " + error.fields[name]);
      });
      setStatus(form, "error", [message].concat(unplaced).join(" "));
    }, function () {
      if (button) { button.disabled = false; button.textContent = label; }
      form.removeAttribute("aria-busy");
      setStatus(form, "error", "Caly could not be reached. Check your connection and try again.");
    });
  });

  // The script checks fields itself (and shows why next to each), so the browser's own bubbles
  // stay off.
  document.querySelectorAll("form[data-api]").forEach(function (form) { form.noValidate = true; });

  // --- small behaviours -----------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var copy = event.target.closest && event.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.dataset.copy);
      var text = source ? (source.value || source.textContent).trim() : "";
      var done = function () {
        var was = copy.textContent;
        copy.textContent = "Copied";
        setTimeout(function () { copy.textContent = was; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, done);
      } else {
        var area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        document.execCommand("copy");
        area.remove();
        done();
      }
    }
    var out = event.target.closest && event.target.closest("[data-logout]");
    if (out) {
      call("POST", "/api/v1/auth/logout").then(function () { location.href = "/login"; });
    }
  });

  // Filters submit on change of a select, so a list narrows with one tap.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.tagName === "SELECT" && field.form && field.form.classList.contains("autosubmit")) {
      field.form.submit();
    }
  });

  // Sign-in page: a session that only expired comes back through the refresh cookie.
  var login = document.querySelector("form[data-login]");
  if (login && document.cookie.indexOf("caly_csrf=") !== -1) {
    call("POST", "/api/v1/auth/refresh").then(function (result) {
      if (result.ok) location.href = nextTarget();
    });
  }
  var google = document.querySelector("a[data-google]");
  if (google) google.href = "/api/v1/auth/google/start?return_to=" + encodeURIComponent(nextTarget());
})();
