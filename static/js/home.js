// Home page: commune suggestions, "Autour de moi", live filters, and the map
// kept in step with the list. Everything here enhances a page that already
// works without JavaScript (GET form, server-rendered list). On a phone the map
// (Leaflet, markers, outlines, tiles) is fetched only when the person opens it
// or scrolls to it.
import {
  baseMap,
  clusterGroup,
  clusterIcon,
  escapeHTML,
  loadLeaflet,
  outlines,
  pin,
  readJSON,
} from "./map.js";

const form = document.getElementById("search-form");
const input = document.getElementById("id_q");
// The position fields exist only once a position is known: clean URLs otherwise.
const hidden = (name) => {
  let node = document.getElementById(`id_${name}`);
  if (!node) {
    node = Object.assign(document.createElement("input"), { type: "hidden", name, id: `id_${name}` });
    form.append(node);
  }
  return node;
};
const latInput = hidden("lat");
const lonInput = hidden("lon");
form.addEventListener("formdata", (event) => {
  const data = event.formData;
  for (const name of ["lat", "lon"]) {
    if (!data.get(name)) data.delete(name);
  }
  // An empty field alone is kept: the server then says what to type.
  if (!data.get("q") && [...data.keys()].some((name) => name !== "q")) data.delete("q");
});

// --- Suggestions: an ARIA 1.2 combobox over the commune table ----------------
function setupCombobox() {
  const list = document.getElementById("q-list");
  const status = document.getElementById("q-status");
  const url = input.dataset.suggestUrl;
  let items = [];
  let active = -1;
  let timer = null;
  let controller = null;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };
  const choose = (index) => {
    input.value = items[index].label;
    close();
    latInput.value = "";
    lonInput.value = "";
    form.requestSubmit();
  };
  const render = (results) => {
    items = results;
    list.replaceChildren(
      ...results.map((item, i) => {
        const li = document.createElement("li");
        li.id = `q-option-${i}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = item.label;
        li.addEventListener("mousedown", (event) => event.preventDefault());
        li.addEventListener("click", () => choose(i));
        return li;
      }),
    );
    const open = results.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    active = -1;
    status.textContent = open
      ? `${results.length} commune${results.length > 1 ? "s" : ""} suggérée${results.length > 1 ? "s" : ""}, flèche du bas pour choisir.`
      : "";
  };
  const fetchSuggestions = async () => {
    const text = input.value.trim();
    if (text.length < 2) return render([]);
    controller?.abort();
    controller = new AbortController();
    try {
      const response = await fetch(`${url}?q=${encodeURIComponent(text)}`, {
        signal: controller.signal,
      });
      if (response.ok) render((await response.json()).results);
    } catch (error) {
      if (error.name !== "AbortError") render([]);
    }
  };
  input.addEventListener("input", () => {
    latInput.value = "";
    lonInput.value = "";
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, 150);
  });
  input.addEventListener("keydown", (event) => {
    const open = !list.hidden && items.length > 0;
    if (event.key === "ArrowDown") {
      if (!open) return fetchSuggestions();
      event.preventDefault();
      highlight((active + 1) % items.length);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(active <= 0 ? items.length - 1 : active - 1);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

// --- "Autour de moi" -----------------------------------------------------------
function setupGeolocation() {
  const row = document.getElementById("around-me-row");
  if (!("geolocation" in navigator)) {
    row.hidden = true;
    return;
  }
  const button = document.getElementById("around-me");
  const status = document.getElementById("geo-status");
  button.addEventListener("click", () => {
    status.textContent = "Recherche de votre position…";
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        latInput.value = position.coords.latitude.toFixed(5);
        lonInput.value = position.coords.longitude.toFixed(5);
        input.value = "Ma position";
        status.textContent = "Position trouvée : recherche des lieux les plus proches…";
        form.requestSubmit();
      },
      (error) => {
        button.disabled = false;
        status.textContent =
          error.code === error.PERMISSION_DENIED
            ? "Votre navigateur n’a pas donné votre position. Tapez plutôt le nom de votre commune."
            : "Votre position n’a pas pu être trouvée. Tapez plutôt le nom de votre commune.";
        input.focus();
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 },
    );
  });
}

// --- The map -----------------------------------------------------------------
// The server answers what is in view (mediation/markers.py): pins, grouped here
// by Leaflet.markercluster, or, far out over many places, its own groups
// ("bubbles"), fetched again when the map moves.
const map = {
  leaflet: null,
  cluster: null,
  bubbles: null,
  markers: new Map(),
  origin: null,
  state: null,
  loaded: null, // the last URL answered
  asking: null, // the URL being fetched
  complete: null, // the markers URL whose every pin is already on the map
  controller: null,
  timer: null,
  fitPending: false,
};
const WIDE = "(min-width: 64rem)";
const MOVE_DELAY = 250; // ms of calm after a move before asking the server

function setupMap(config) {
  const leaflet = baseMap("map", config, {
    center: config.center,
    zoom: config.zoom,
    scrollWheelZoom: true,
    onTilesFail: () => {
      document.getElementById("map-note").hidden = false;
    },
  });
  outlines(leaflet, config.outlines);
  map.cluster = clusterGroup();
  leaflet.addLayer(map.cluster);
  map.bubbles = L.layerGroup().addTo(leaflet);
  map.leaflet = leaflet;
  leaflet.on("moveend", () => scheduleView());
  return leaflet;
}

/** The markers URL for the view, its box widened to the server's grid cells
 * (a small directory: every marker of the search, whatever the view). */
function viewUrl() {
  if (!map.state.byView) return map.state.markers;
  const zoom = map.leaflet.getZoom();
  const { px, latRatio } = map.state.grid;
  const lonStep = ((360 / 2 ** zoom) * px) / 256;
  const latStep = lonStep * latRatio;
  const bounds = map.leaflet.getBounds();
  const snap = (value, step, round) => (round(value / step) * step).toFixed(6);
  const bbox = [
    snap(Math.max(bounds.getWest(), -180), lonStep, Math.floor),
    snap(Math.max(bounds.getSouth(), -90), latStep, Math.floor),
    snap(Math.min(bounds.getEast(), 180), lonStep, Math.ceil),
    snap(Math.min(bounds.getNorth(), 90), latStep, Math.ceil),
  ].join(",");
  return `${map.state.markers}&bbox=${bbox}&zoom=${zoom}`;
}

function scheduleView(delay = MOVE_DELAY) {
  clearTimeout(map.timer);
  map.timer = setTimeout(loadView, delay);
}

async function loadView() {
  if (!map.leaflet || !map.state) return;
  if (map.complete === map.state.markers) return; // every pin of this search is there
  const url = viewUrl();
  if (url === map.loaded || url === map.asking) return;
  map.controller?.abort();
  const controller = (map.controller = new AbortController());
  map.asking = url;
  let data;
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok) return;
    data = await response.json();
  } catch {
    return; // moved again (aborted) or offline: the list above says it all
  } finally {
    if (map.controller === controller) map.asking = null;
  }
  map.loaded = url;
  map.complete = data.complete ? map.state.markers : null;
  const shown = render(data);
  document.getElementById("map-hours-note").hidden = !data.hours_ignored;
  if (map.fitPending && data.complete && shown.length) {
    map.leaflet.fitBounds(L.latLngBounds(shown.map((m) => m.getLatLng())).pad(0.05), { maxZoom: 13 });
  }
  map.fitPending = false;
}

/** Draws an answer of the server; returns the pins. */
function render(data) {
  const at = Object.fromEntries(data.fields.map((field, i) => [field, i]));
  map.markers = new Map();
  const shown = [];
  for (const row of data.rows) {
    const id = row[at.id];
    const name = row[at.name];
    const stop = row[at.stop];
    // An itinerant place has a pin at each of its stops too.
    const label = stop ? `${name} — passe à ${row[at.city]}` : name;
    const marker = pin([row[at.lat], row[at.lon]], label);
    marker.structureId = id;
    const kinds = row[at.kinds].map((k) => data.kinds[k]).join(", ");
    const where = stop ? `Passe à ${row[at.city]} (${stop})` : row[at.city];
    marker.bindPopup(
      `<p><strong><a href="/lieux/${encodeURIComponent(row[at.slug])}/">${escapeHTML(name)}</a></strong></p>` +
        `<p>${escapeHTML(where)}${kinds ? ` — ${escapeHTML(kinds)}` : ""}</p>`,
    );
    marker.on("mouseover", () => setActive(id, { from: "map" }));
    marker.on("mouseout", () => setActive(null, { from: "map" }));
    // Keyboard users reach markers with Tab: the same highlight on focus.
    marker.on("add", () => {
      const element = marker.getElement();
      element?.addEventListener("focus", () => setActive(id, { from: "map" }));
      element?.addEventListener("blur", () => setActive(null, { from: "map" }));
    });
    if (!map.markers.has(id)) map.markers.set(id, []);
    map.markers.get(id).push(marker);
    shown.push(marker);
  }
  map.cluster.clearLayers();
  map.cluster.addLayers(shown);
  map.bubbles.clearLayers();
  for (const [lat, lon, count, south, west, north, east] of data.clusters) {
    const bubble = L.marker([lat, lon], {
      icon: clusterIcon(count),
      title: `${count.toLocaleString("fr-FR")} lieux : zoomer`,
      keyboard: true,
    });
    bubble.on("click", () =>
      afterZoom(() => {
        const zoom = map.leaflet.getZoom();
        if (south === north && west === east) map.leaflet.setView([lat, lon], zoom + 2);
        else map.leaflet.fitBounds([[south, west], [north, east]], { padding: [20, 20], maxZoom: zoom + 3 });
      }),
    );
    map.bubbles.addLayer(bubble);
  }
  if (activeId !== null) setActive(activeId, { from: "list" });
  return shown;
}

/** Run `move` now, or when the zoom under way ends: Leaflet drops a zoom asked
 * while it still animates the last one (the first view's, 250 ms), and a bubble
 * clicked that soon would do nothing. */
function afterZoom(move) {
  if (map.leaflet._animatingZoom) map.leaflet.once("zoomend", move);
  else move();
}

let activeId = null;
function setActive(id, { from }) {
  if (activeId !== null) {
    for (const previous of map.markers.get(activeId) ?? []) {
      const element = (map.cluster.getVisibleParent(previous) ?? previous).getElement?.();
      element?.classList.remove("is-active");
    }
    document.querySelector(`.result[data-id="${activeId}"]`)?.classList.remove("is-active");
  }
  activeId = id;
  if (id === null) return;
  for (const marker of map.markers.get(id) ?? []) {
    const shown = map.cluster.getVisibleParent(marker) ?? marker;
    shown.getElement?.()?.classList.add("is-active");
  }
  const item = document.querySelector(`.result[data-id="${id}"]`);
  item?.classList.add("is-active");
  if (from === "map" && item && window.matchMedia(WIDE).matches) {
    item.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }
}

function showState(state) {
  if (!map.leaflet) return;
  if (map.state?.markers !== state.markers) {
    map.loaded = null;
    map.complete = null;
  }
  map.state = state;
  if (map.origin) map.origin.remove();
  map.origin = null;
  map.fitPending = !state.origin;
  if (state.origin) {
    const [lat, lon, label] = state.origin;
    map.origin = L.marker([lat, lon], {
      icon: L.divIcon({ className: "pin-origin", iconSize: [22, 22] }),
      title: `Point de départ : ${label}`,
      keyboard: false,
      interactive: false, // a click reaches the pin or the group beneath
      zIndexOffset: 1000,
    }).addTo(map.leaflet);
    const bounds = L.latLngBounds([[lat, lon], ...state.nearest]);
    map.leaflet.fitBounds(bounds.pad(0.15), { maxZoom: 14 });
  }
  scheduleView(0);
  wireList();
}

function wireList() {
  for (const item of document.querySelectorAll(".result[data-id]:not([data-wired])")) {
    item.dataset.wired = "";
    const id = Number(item.dataset.id);
    item.addEventListener("mouseenter", () => setActive(id, { from: "list" }));
    item.addEventListener("focusin", () => setActive(id, { from: "list" }));
    item.addEventListener("mouseleave", () => setActive(null, { from: "list" }));
  }
}

// --- Live filters: the same page, fetched and swapped ------------------------
function setupLiveFilters() {
  const results = document.getElementById("resultats");
  let controller = null;
  const refresh = async () => {
    const params = new URLSearchParams(new FormData(form));
    const url = `${form.action}?${params}`;
    controller?.abort();
    controller = new AbortController();
    results.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url, { signal: controller.signal });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("resultats");
      if (!fresh) return;
      results.innerHTML = fresh.innerHTML;
      if (fresh.hasAttribute("aria-labelledby")) {
        results.setAttribute("aria-labelledby", fresh.getAttribute("aria-labelledby"));
      }
      announceCount(page);
      document.querySelector(".results-layout")?.classList.toggle(
        "has-results",
        page.querySelector(".results-layout")?.classList.contains("has-results") ?? false,
      );
      document.title = page.title;
      history.replaceState(null, "", url);
      const state = readJSON("map-state");
      if (state) showState(state);
      updateBadge(page);
    } catch (error) {
      if (error.name !== "AbortError") form.submit();
    } finally {
      results.removeAttribute("aria-busy");
    }
  };
  const filters = document.getElementById("filters");
  filters.addEventListener("change", (event) => {
    if (event.target.matches("input[type=checkbox]")) refresh();
  });
}

// On a phone the list is far below the filters: say the new count next to them,
// and offer to jump to the list.
function announceCount(page) {
  const count = document.getElementById("filters-count");
  const jump = document.getElementById("filters-jump");
  if (!count) return;
  const items = page.querySelectorAll(".result").length;
  const total = page.getElementById("results-status")?.dataset.count;
  const n = total === undefined ? items : Number(total);
  count.textContent = n === 0 ? "Aucun lieu ne répond à ces critères." : `${n} lieu${n > 1 ? "x" : ""}`;
  if (jump) {
    jump.hidden = n === 0;
    jump.textContent = n > 1 ? `Voir les ${n} lieux` : "Voir le lieu";
  }
}

function updateBadge(page) {
  const summary = document.querySelector("#filters summary");
  const fresh = page.querySelector("#filters summary");
  if (summary && fresh) summary.innerHTML = fresh.innerHTML;
}

// --- Start -------------------------------------------------------------------
let mapStarted = false;
async function startMap(config) {
  if (mapStarted) return;
  mapStarted = true;
  const panel = document.getElementById("map-panel");
  panel.classList.add("is-loading");
  try {
    await loadLeaflet(config, { cluster: true });
  } catch {
    panel.classList.remove("is-loading");
    document.getElementById("map-note").hidden = false;
    return;
  }
  panel.classList.remove("is-loading");
  panel.classList.add("is-open");
  document.getElementById("map-open")?.remove();
  setupMap(config);
  showState(readJSON("map-state"));
}

// Wide screens: the map sits beside the list, load it at once. Narrow screens:
// only on "Voir sur la carte" or when the map's place scrolls into view.
function setupLazyMap(config) {
  const panel = document.getElementById("map-panel");
  if (!panel) return;
  if (window.matchMedia(WIDE).matches) return startMap(config);
  const opener = document.getElementById("map-open");
  opener?.addEventListener("click", () => {
    startMap(config).then(() => document.getElementById("map")?.focus());
  });
  for (const link of document.querySelectorAll("a[href='#map-panel']")) {
    link.addEventListener("click", () => startMap(config));
  }
  if ("IntersectionObserver" in window) {
    const watcher = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        watcher.disconnect();
        startMap(config);
      }
    });
    watcher.observe(panel);
  }
}

setupCombobox();
setupGeolocation();
setupLiveFilters();
wireList();
const config = readJSON("map-config");
if (config) setupLazyMap(config);
