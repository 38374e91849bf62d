// Herald's pages: served as /static/herald.js so the Content-Security-Policy can forbid
// inline scripts (script-src 'self'). Each part runs only on the page that has its elements.
(function () {
  // Domains: copy a record's value.
  document.querySelectorAll('button.copy').forEach(function (b) {
    b.addEventListener('click', function () {
      navigator.clipboard.writeText(b.dataset.value).then(function () { b.textContent = 'Copied'; });
    });
  });

  // Times: relative ("3 h ago"), the exact time in the viewer's zone on hover; the page's UTC
  // text stays in the datetime attribute (and is what shows without scripts).
  var units = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400],
               ['hour', 3600], ['minute', 60], ['second', 1]];
  var rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, {numeric: 'auto'}) : null;
  document.querySelectorAll('time[datetime]').forEach(function (t) {
    var at = Date.parse(t.getAttribute('datetime'));
    if (isNaN(at) || !rtf) { return; }
    var secs = Math.round((at - Date.now()) / 1000);
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(secs) >= units[i][1] || i === units.length - 1) {
        t.textContent = rtf.format(Math.round(secs / units[i][1]), units[i][0]);
        break;
      }
    }
    t.title = new Date(at).toLocaleString(undefined, {dateStyle: 'full', timeStyle: 'long'}) +
      ' (' + t.getAttribute('datetime') + ')';
  });

  // Forms that destroy something ask first (data-confirm holds the question).
  document.querySelectorAll('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm(f.dataset.confirm)) { e.preventDefault(); }
    });
  });

  // Contacts: show progress while an upload runs.
  var importForm = document.getElementById('import-form');
  if (importForm) {
    importForm.addEventListener('submit', function () {
      document.getElementById('import-progress').hidden = false;
    });
  }

  // New campaign: the live preview.
  var form = document.getElementById('compose-form');
  if (form) {
    var preview = function () {
      var body = new URLSearchParams(new FormData(form));
      fetch('/campaigns/preview', {method: 'POST', body: body, credentials: 'same-origin'})
        .then(function (r) { return r.json(); })
        .then(function (p) {
          document.getElementById('preview-for').textContent = p.error ? '' : ('for ' + p.email);
          document.getElementById('preview-subject').textContent = p.error ? p.error : p.subject;
          document.getElementById('preview').srcdoc = p.error ? '' : p.html;
        });
    };
    document.getElementById('preview-button').addEventListener('click', preview);
    form.html.addEventListener('input', function () { clearTimeout(form._t); form._t = setTimeout(preview, 400); });
  }
})();
