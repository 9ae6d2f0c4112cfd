// Live figures of a monitoring site page (templates/monitoring/site.html), from its
// server-sent events. A static file rather than an inline script: the Content-Security-Policy
// allows scripts from this server only. Texts and the events URL come from #conn's data-*.
(function () {
  const conn = document.getElementById("conn");
  if (!conn) return;
  const fmt = (v) => Number(v).toLocaleString(undefined, {maximumFractionDigits: v < 10 ? 3 : 0});
  const when = (s) => s ? s.replace("T", " ").slice(0, 19) : "–";
  const source = new EventSource(conn.dataset.events);
  source.onopen = () => { conn.textContent = conn.dataset.live; conn.className = "badge badge-ok"; };
  source.onerror = () => { conn.textContent = conn.dataset.reconnecting; conn.className = "badge badge-warn"; };
  source.addEventListener("live", (e) => {
    const s = JSON.parse(e.data);
    document.getElementById("updated").textContent = when(s.at);
    document.getElementById("site-rate").textContent = fmt(s.rate_kg_co2e_per_h);
    document.getElementById("site-today").textContent = fmt(s.today_kg_co2e);
    const alerts = document.getElementById("alerts");
    alerts.replaceChildren(...s.alerts.map((a) => {
      const d = document.createElement("div"); d.className = "flash flash-bad"; d.setAttribute("role", "alert");
      d.textContent = a; return d;
    }));
    for (const m of s.meters) {
      const row = document.querySelector(`tr[data-meter="${CSS.escape(m.meter)}"]`);
      if (!row) continue;
      row.querySelector('[data-f="last"]').textContent = when(m.last_reading);
      row.querySelector('[data-f="minute"]').textContent = fmt(m.minute_amount) + " " + m.unit;
      row.querySelector('[data-f="rate"]').textContent = fmt(m.rate_kg_co2e_per_h);
      row.querySelector('[data-f="today"]').textContent = fmt(m.today_kg_co2e);
      const cell = row.querySelector('[data-f="alert"]');
      cell.replaceChildren();
      if (m.alert) {
        const b = document.createElement("span"); b.className = "badge badge-bad";
        b.textContent = conn.dataset.alert; cell.appendChild(b);
      }
    }
  });
})();
