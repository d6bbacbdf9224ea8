// Edit page (mediators' space, and the admin's structure and stop forms): place
// the point on a map. Clicking the map or dragging the marker fills
// latitude/longitude; "Trouver l’adresse sur la carte", where the page has it,
// asks the site's geocoder (BAN, or the commune's point offline). Without
// JavaScript the same button submits the form and the server fills the point.
import { baseMap, loadLeaflet, readJSON } from "./map.js";

const picker = document.querySelector(".point-picker");
const latInput = document.getElementById("id_latitude");
const lonInput = document.getElementById("id_longitude");
const config = readJSON("map-config");

function readPoint() {
  const lat = Number.parseFloat((latInput?.value || "").replace(",", "."));
  const lon = Number.parseFloat((lonInput?.value || "").replace(",", "."));
  return Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null;
}

if (picker && latInput && lonInput && config) {
  await loadLeaflet(config);
  const mapElement = document.getElementById("point-map");
  const status = document.getElementById("geocode-status");
  const button = document.getElementById("geocode-button");
  mapElement.hidden = false;
  const map = baseMap(mapElement, config).setView(config.center, config.zoom);
  let marker = null;

  const write = (latlng) => {
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
  };
  const place = (latlng, zoom) => {
    if (!marker) {
      marker = L.marker(latlng, { draggable: true, title: "Position du lieu", keyboard: true });
      marker.addTo(map);
      marker.on("dragend", () => write(marker.getLatLng()));
    } else {
      marker.setLatLng(latlng);
    }
    if (zoom) map.setView(latlng, zoom);
  };

  const initial = readPoint();
  if (initial) place(initial, 16);
  map.on("click", (event) => {
    place(event.latlng);
    write(event.latlng);
  });
  for (const input of [latInput, lonInput]) {
    input.addEventListener("change", () => {
      const point = readPoint();
      if (point) place(point, Math.max(map.getZoom(), 15));
    });
  }

  button?.addEventListener("click", async (event) => {
    event.preventDefault();
    const query = ["id_address", "id_postal_code", "id_city"]
      .map((id) => document.getElementById(id)?.value.trim() || "")
      .filter(Boolean)
      .join(" ");
    if (!query) {
      status.textContent = "Indiquez d’abord l’adresse, le code postal et la commune.";
      return;
    }
    status.textContent = "Recherche de l’adresse…";
    try {
      const response = await fetch(`${picker.dataset.geocodeUrl}?q=${encodeURIComponent(query)}`, {
        headers: { Accept: "application/json" },
      });
      const data = await response.json();
      if (!data.found) {
        status.textContent = data.message || "Adresse introuvable : placez le point sur la carte.";
        return;
      }
      const latlng = L.latLng(data.latitude, data.longitude);
      place(latlng, data.precise ? 17 : 13);
      write(latlng);
      status.textContent = data.precise
        ? `Repère placé à l’adresse : ${data.label}. Vérifiez-le et déplacez-le si besoin.`
        : `Adresse précise introuvable : le repère est au centre de ${data.label}. Déplacez-le au bon endroit.`;
    } catch {
      status.textContent = "La recherche n’a pas abouti : placez le point en cliquant sur la carte.";
    }
  });
}
