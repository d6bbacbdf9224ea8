// Structure page: a small map of the place (and of its stops), and a print button.
const readJSON = (id) => {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
};

const printButton = document.getElementById("print-button");
if (printButton) {
  printButton.hidden = false;
  printButton.addEventListener("click", () => window.print());
}

const config = readJSON("map-config");
const points = readJSON("map-points");
if (config && points?.length && window.L) {
  document.getElementById("map-panel").hidden = false;
  const map = L.map("map", { zoomControl: false, scrollWheelZoom: false });
  L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
  map.attributionControl.setPrefix(false);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: config.maxZoom }).addTo(map);
  const markers = points.map(([lat, lon, label], index) =>
    L.marker([lat, lon], {
      icon: L.divIcon({ className: index === 0 ? "pin pin-main" : "pin", iconSize: [26, 26] }),
      title: label,
      alt: label,
    }).addTo(map),
  );
  if (markers.length === 1) {
    map.setView(markers[0].getLatLng(), 15);
  } else {
    map.fitBounds(L.latLngBounds(markers.map((m) => m.getLatLng())).pad(0.15));
  }
}
