// The map pieces every page shares: reading the server's data, loading Leaflet
// only when a map is wanted, the base map (tiles, French controls), pins and
// clusters. Imported by the home, place, territory and point-picker modules.

/** The JSON a template wrote with `json_script`, or null. */
export function readJSON(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

export function escapeHTML(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span.innerHTML;
}

const loaded = new Map();

function addOnce(url, make) {
  if (!loaded.has(url)) {
    loaded.set(
      url,
      new Promise((resolve, reject) => {
        const node = make();
        node.addEventListener("load", resolve);
        node.addEventListener("error", () => reject(new Error(`${url} : échec du chargement`)));
        document.head.append(node);
      }),
    );
  }
  return loaded.get(url);
}

const script = (src) =>
  addOnce(src, () => Object.assign(document.createElement("script"), { src, async: false }));
const stylesheet = (href) =>
  addOnce(href, () => Object.assign(document.createElement("link"), { rel: "stylesheet", href }));

/** Leaflet (and, with `cluster`, its marker clusters), fetched on first use.
 * `config.assets` lists the files (their hashed URLs in production). */
export async function loadLeaflet(config, { cluster = false } = {}) {
  const { assets } = config;
  const styles = [stylesheet(assets.leafletCss)];
  if (!window.L) await script(assets.leafletJs);
  if (cluster) {
    styles.push(stylesheet(assets.clusterCss));
    if (!window.L.markerClusterGroup) await script(assets.clusterJs);
  }
  await Promise.all(styles);
  return window.L;
}

/** A Leaflet map in `element` with the site's tiles and French zoom buttons.
 * `onTilesFail` is called once when tiles keep failing (offline, blocked). */
export function baseMap(element, config, { onTilesFail, ...options } = {}) {
  const L = window.L;
  const map = L.map(element, {
    zoomControl: false,
    scrollWheelZoom: false,
    minZoom: config.minZoom,
    maxZoom: config.maxZoom,
    ...options,
  });
  L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
  map.attributionControl.setPrefix(false);
  const tiles = L.tileLayer(config.tiles, {
    attribution: config.attribution,
    maxZoom: config.maxZoom,
  }).addTo(map);
  if (onTilesFail) {
    let failures = 0;
    tiles.on("tileerror", () => {
      failures += 1;
      if (failures === 3) onTilesFail();
    });
  }
  return map;
}

// Pins are drawn at 26 px, inside a 44 × 44 px tap area (WCAG 2.5.5).
const PIN_TAP = 44;

/** A marker pin; `main` for the place itself among its stops. */
export function pin(latlng, label, { main = false, ...options } = {}) {
  const L = window.L;
  return L.marker(latlng, {
    icon: L.divIcon({
      className: main ? "pin pin-main" : "pin",
      html: `<span class="visually-hidden">${escapeHTML(label)}</span>`,
      iconSize: [PIN_TAP, PIN_TAP],
    }),
    title: label,
    alt: label,
    keyboard: true,
    ...options,
  });
}

/** The bubble of a group of `count` places (the browser's groups and the server's). */
export function clusterIcon(count) {
  const L = window.L;
  const [size, scale] = count < 10 ? [44, "s"] : count < 50 ? [48, "m"] : count < 1000 ? [52, "l"] : [64, "xl"];
  const text = count.toLocaleString("fr-FR");
  return L.divIcon({
    className: `cluster cluster-${scale}`,
    html: `${text}<span class="visually-hidden"> lieux : zoomer</span>`,
    iconSize: [size, size],
  });
}

/** A cluster group whose bubbles say how many places they hold. */
export function clusterGroup() {
  const L = window.L;
  return L.markerClusterGroup({
    showCoverageOnHover: false,
    maxClusterRadius: 45,
    chunkedLoading: true,
    iconCreateFunction: (cluster) => clusterIcon(cluster.getChildCount()),
  });
}

/** The outlines of the bassins de vie (GeoJSON), drawn under the pins. */
export async function outlines(map, url, { interactive = false, style = {} } = {}) {
  const response = await fetch(url);
  if (!response.ok) return null;
  const collection = await response.json();
  return window.L.geoJSON(collection, {
    interactive,
    style: { color: "#000091", weight: 1.5, opacity: 0.6, fillColor: "#000091", fillOpacity: 0.03, ...style },
  }).addTo(map);
}
