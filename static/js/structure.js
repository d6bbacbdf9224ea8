// Structure page: a small map of the place (and of its stops), and a print button.
import { baseMap, loadLeaflet, pin, readJSON } from "./map.js";

const printButton = document.getElementById("print-button");
if (printButton) {
  printButton.hidden = false;
  printButton.addEventListener("click", () => window.print());
}

async function showMap(config, points) {
  await loadLeaflet(config);
  document.getElementById("map-panel").hidden = false;
  const map = baseMap("map", config);
  const markers = points.map(([lat, lon, label], index) =>
    pin([lat, lon], label, { main: index === 0 }).addTo(map),
  );
  if (markers.length === 1) {
    map.setView(markers[0].getLatLng(), 15);
  } else {
    map.fitBounds(L.latLngBounds(markers.map((m) => m.getLatLng())).pad(0.15));
  }
}

const config = readJSON("map-config");
const points = readJSON("map-points");
if (config && points?.length) {
  // On a phone the map is below the essentials: fetch it when it comes near the screen.
  const panel = document.getElementById("map-panel");
  const wide = window.matchMedia("(min-width: 48rem)").matches;
  if (wide || !("IntersectionObserver" in window)) {
    showMap(config, points);
  } else {
    panel.hidden = false;
    const watcher = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) {
          watcher.disconnect();
          showMap(config, points);
        }
      },
      { rootMargin: "200px" },
    );
    watcher.observe(panel);
  }
}
