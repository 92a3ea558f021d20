// awskit dashboard: renders the state the page was served with, then the ones /api/events (SSE) sends. No build step,
// no dependencies.
(() => {
  const token = new URLSearchParams(location.search).get('token');
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  const $ = (id) => document.getElementById(id);
  const palette = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#dc2626'];
  const workerColors = new Map();

  const esc = (s) =>
    String(s ?? '').replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  const fmt = (n, digits = 0) =>
    Number(n ?? 0).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  const shortShard = (id) => {
    const m = /^shardId-(\d+)$/.exec(id ?? '');
    return m ? `#${Number(m[1])}` : String(id ?? '');
  };
  const shortWorker = (id) => {
    const parts = String(id).split(':');
    return parts.length > 2 ? `${parts[0]}…${parts[parts.length - 1]}` : String(id);
  };
  const colorOf = (worker) => {
    if (!workerColors.has(worker)) workerColors.set(worker, palette[workerColors.size % palette.length]);
    return workerColors.get(worker);
  };
  const chip = (worker) =>
    `<span class="chip" title="${esc(worker)}"><i style="background:${colorOf(worker)}"></i>${esc(shortWorker(worker))}</span>`;
  const lagText = (ms) => {
    if (ms === undefined || ms === null) return '<span class="muted">–</span>';
    const cls = ms < 1000 ? 'lag-ok' : ms < 60000 ? 'lag-warn' : 'lag-bad';
    const text =
      ms < 1000 ? `${fmt(ms)} ms` : ms < 60000 ? `${fmt(ms / 1000, 1)} s` : `${fmt(ms / 60000, 1)} min`;
    return `<span class="${cls}">${text}</span>`;
  };
  const checkpointText = (cp) => {
    if (!cp) return '<span class="muted">–</span>';
    if (/^[A-Z_]+$/.test(cp)) return `<span class="badge sentinel">${esc(cp)}</span>`;
    return `<span class="mono" title="${esc(cp)}">…${esc(cp.slice(-10))}</span>`;
  };

  const ownerCell = (sh) => {
    if (sh.leaseStatus === 'ended')
      return '<span class="badge closed" title="SHARD_END checkpointed">finished</span>';
    if (sh.leaseStatus === 'blocked')
      return '<span class="badge warn" title="a parent shard is not finished yet">waiting for parent</span>';
    if (!sh.owner) return '<span class="muted">unassigned</span>';
    const stalled = sh.stalled
      ? ` <span class="badge warn" title="records waiting, checkpoint not moving for ${fmt((sh.checkpointAgeMs ?? 0) / 1000)} s">stalled</span>`
      : '';
    return chip(sh.owner) + stalled;
  };

  function renderStreams(state) {
    const html = state.streams
      .map((s) => {
        const rows = s.shards
          .map((sh) => {
            const parents = [sh.parentShardId, sh.adjacentParentShardId]
              .filter(Boolean)
              .map(shortShard)
              .join(', ');
            return `<tr class="${sh.open ? 'open' : 'closed'}" data-shard="${esc(sh.shardId)}" data-open="${sh.open}">
              <td class="mono" title="${esc(sh.shardId)}">${esc(sh.shardId)}</td>
              <td>${sh.open ? '<span class="badge open">open</span>' : '<span class="badge closed">closed</span>'}</td>
              <td class="mono">${parents ? esc(parents) : '<span class="muted">–</span>'}</td>
              <td data-owner="${esc(sh.owner ?? '')}" data-lease="${esc(sh.leaseStatus ?? '')}">${ownerCell(sh)}</td>
              <td data-checkpoint="${esc(sh.checkpoint ?? '')}">${checkpointText(sh.checkpoint)}</td>
              <td class="num" data-lag="${sh.lagMs ?? ''}">${lagText(sh.lagMs)}</td>
              <td class="num">${fmt(sh.recordsPerSecond, 1)}</td>
              <td class="num">${fmt(sh.recordsProcessed)}</td>
            </tr>`;
          })
          .join('');
        const status = s.error
          ? `<span class="badge warn" title="${esc(s.error)}">unavailable</span>`
          : `<span class="badge ${s.status === 'ACTIVE' ? 'active' : 'warn'}">${esc(s.status ?? '…')}</span>`;
        const open = s.shards.filter((x) => x.open).length;
        return `<section class="panel" data-stream="${esc(s.name)}">
          <div class="panel-head">
            <h2>${esc(s.name)} ${status}</h2>
            <div class="meta">
              <span>${open} open / ${s.shards.length} shards</span>
              ${s.retentionHours ? `<span>retention ${s.retentionHours} h</span>` : ''}
              <span>ingest ${fmt(s.ingest.recordsPerSecond, 1)}/s · ${fmt(s.ingest.recordsTotal)} total</span>
              <span>buffer ${fmt(s.ingest.bufferedBytes / 1024, 1)} KiB</span>
              ${s.ingest.rejectedTotal ? `<span class="lag-warn">${fmt(s.ingest.rejectedTotal)} rejected (429)</span>` : ''}
              ${s.ingest.failedTotal ? `<span class="lag-bad">${fmt(s.ingest.failedTotal)} failed</span>` : ''}
              ${s.consumed ? '' : '<span>not consumed here</span>'}
            </div>
          </div>
          ${s.error ? `<p class="lag-bad">${esc(s.error)}</p>` : ''}
          <table class="tbl">
            <thead><tr><th>Shard</th><th>State</th><th>Parents</th><th>Lease owner</th><th>Checkpoint</th>
              <th class="num">Lag</th><th class="num">Records/s</th><th class="num">Processed</th></tr></thead>
            <tbody>${rows || '<tr><td colspan="8" class="empty">No shards</td></tr>'}</tbody>
          </table>
        </section>`;
      })
      .join('');
    $('streams').innerHTML = html;
  }

  function renderWorkers(state) {
    $('workers').innerHTML = state.workers.length
      ? state.workers
          .map(
            (w) => `<tr data-worker="${esc(w.workerId)}">
              <td>${chip(w.workerId)}</td><td>${esc(w.stream)}</td>
              <td class="mono">${w.shardIds.length ? w.shardIds.map((s) => esc(shortShard(s))).join(', ') : '<span class="muted">none</span>'}</td>
              <td class="num">${fmt(w.recordsPerSecond, 1)}</td><td class="num">${fmt(w.recordsProcessed)}</td></tr>`,
          )
          .join('')
      : '<tr><td colspan="5" class="empty">No consumer workers</td></tr>';
  }

  function renderErrors(state) {
    $('errors').innerHTML = state.errors.recent.length
      ? state.errors.recent
          .map(
            (e) => `<li><span class="when">${esc(new Date(e.time).toLocaleTimeString())}</span>
              <span class="src">${esc(e.source)}</span>${e.shardId ? `<span class="mono muted">${esc(shortShard(e.shardId))}</span> ` : ''}${esc(e.message)}</li>`,
          )
          .join('')
      : '<li class="empty">None</li>';
  }

  // The server keeps the samples (state.throughput, one per interval since it started), so the chart is drawn
  // from the first state on: the samples present span the whole width (a single one is a flat line across).
  function renderChart(samples) {
    const w = 600;
    const h = 120;
    const points = samples.length === 1 ? [samples[0], samples[0]] : samples;
    const max = Math.max(10, ...points.flatMap((p) => [p.in, p.out]));
    $('chart-max').textContent = `${fmt(max)}/s`;
    const x = (i) => (points.length > 1 ? (i / (points.length - 1)) * w : 0);
    const y = (v) => h - 14 - (v / max) * (h - 24);
    const line = (key) => points.map((p, i) => `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
    $('chart').dataset.samples = String(samples.length);
    const spanS = samples.length > 1 ? (samples[samples.length - 1].time - samples[0].time) / 1000 : 0;
    $('chart-span').textContent = `· last ${spanS >= 90 ? `${fmt(spanS / 60, 1)} min` : `${fmt(spanS)} s`}`;
    $('chart').innerHTML = `
      <line class="grid" x1="0" x2="${w}" y1="${y(max)}" y2="${y(max)}" />
      <line class="grid" x1="0" x2="${w}" y1="${y(max / 2)}" y2="${y(max / 2)}" />
      <line class="grid" x1="0" x2="${w}" y1="${y(0)}" y2="${y(0)}" />
      <polyline class="in" points="${line('in')}" />
      <polyline class="out" points="${line('out')}" />`;
  }

  function render(state) {
    const ingest = state.streams.reduce((a, s) => a + s.ingest.recordsPerSecond, 0);
    const consumed = state.workers.reduce((a, w) => a + w.recordsPerSecond, 0);
    const lags = state.streams.flatMap((s) =>
      s.shards.filter((x) => x.open && x.lagMs !== undefined).map((x) => x.lagMs),
    );
    const owners = new Set(
      state.streams.flatMap((s) => s.shards.filter((x) => x.open && x.owner).map((x) => x.owner)),
    );
    $('sum-ingest').textContent = fmt(ingest, 1);
    $('sum-consumed').textContent = fmt(consumed, 1);
    $('sum-lag').innerHTML = lags.length ? lagText(Math.max(...lags)) : '–';
    $('sum-lag').dataset.lag = lags.length ? String(Math.max(...lags)) : '';
    $('sum-workers').textContent = String(owners.size);
    $('sum-workers-sub').textContent = `owning shards · ${state.workers.length} running`;
    $('sum-errors').textContent = fmt(state.errors.total);
    $('version').textContent = `awskit ${state.version}`;
    $('target').textContent = state.target.local
      ? `${state.target.region} · local AWS ${state.target.endpoint.replace(/^https?:\/\//, '')}`
      : `${state.target.region} · ${state.target.endpoint}`;
    $('target').className = state.target.local ? 'target local' : 'target';
    $('updated').textContent = `updated ${new Date(state.time).toLocaleTimeString()}`;
    renderStreams(state);
    renderWorkers(state);
    renderErrors(state);
    renderChart(state.throughput?.length ? state.throughput : [{ in: ingest, out: consumed }]);
  }

  function setConn(state, text) {
    $('conn').dataset.state = state;
    $('conn-text').textContent = text;
  }

  // Served with the page (when the reader may see the data): drawn before the first paint, then kept live by SSE.
  const initial = document.getElementById('initial-state');
  if (initial) {
    try {
      render(JSON.parse(initial.textContent));
      setConn('connecting', 'connecting…');
    } catch {
      // a page without a usable state waits for the first event
    }
  }

  const es = new EventSource(`/api/events${q}`);
  es.addEventListener('open', () => setConn('live', 'live'));
  es.addEventListener('error', () => setConn('down', 'reconnecting…'));
  es.addEventListener('state', (ev) => {
    setConn('live', 'live');
    render(JSON.parse(ev.data));
  });
})();
