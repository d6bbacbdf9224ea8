// Admin: place a structure's or stop's point on a map. Clicking the map or
// dragging the marker fills the latitude and longitude inputs; typing in the
// inputs moves the marker.
const latInput = document.getElementById("id_latitude");
const lonInput = document.getElementById("id_longitude");

function readPoint() {
  const lat = Number.parseFloat(latInput?.value.replace(",", "."));
  const lon = Number.parseFloat(lonInput?.value.replace(",", "."));
  return Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null;
}

function wire(map) {
  if (!latInput || !lonInput) return;
  let marker = null;
  const place = (latlng, { pan = false } = {}) => {
    if (!marker) {
      marker = L.marker(latlng, { draggable: true, title: "Position du lieu" }).addTo(map);
      marker.on("dragend", () => write(marker.getLatLng()));
    } else {
      marker.setLatLng(latlng);
    }
    if (pan) map.setView(latlng, Math.max(map.getZoom(), 15));
  };
  const write = (latlng) => {
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
  };
  const initial = readPoint();
  if (initial) place(initial, { pan: true });
  map.on("click", (event) => {
    place(event.latlng);
    write(event.latlng);
  });
  for (const input of [latInput, lonInput]) {
    input.addEventListener("change", () => {
      const point = readPoint();
      if (point) place(point, { pan: true });
    });
  }
}

// The map is drawn here, not by django-leaflet's template tags: those write
// inline scripts, which the content security policy refuses.
const mapElement = document.getElementById("point-map");
const config = JSON.parse(document.getElementById("map-config")?.textContent || "null");
if (mapElement && config && window.L) {
  const map = L.map(mapElement).setView(config.center, config.zoom);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: config.maxZoom }).addTo(map);
  wire(map);
}
