// Bassin, department and bassins index pages: the outline(s) and the places.
import { baseMap, escapeHTML, loadLeaflet, outlines, pin, readJSON } from "./map.js";

const config = readJSON("map-config");
const data = readJSON("map-data");
if (config && data) {
  await loadLeaflet(config);
  document.getElementById("map-panel").hidden = false;
  const map = baseMap("map", config);
  const style = { weight: 2, opacity: 1, fillOpacity: 0.06 };

  if (data.outline) {
    const outline = L.geoJSON(data.outline, {
      style: { color: "#000091", fillColor: "#000091", ...style },
      interactive: false,
    }).addTo(map);
    map.fitBounds(outline.getBounds());
  } else {
    map.setView(config.center, config.zoom);
  }
  // Communes coloured by their distance to the nearest place, sized by population;
  // the same figures are in the page's tables.
  for (const [lat, lon, name, population, km, distanceClass] of data.communes ?? []) {
    L.circleMarker([lat, lon], {
      radius: Math.max(3, Math.min(14, Math.sqrt(population) / 10)),
      className: `commune-dot dot-${distanceClass}`,
      weight: 1,
      fillOpacity: 0.75,
    })
      .bindTooltip(
        `${escapeHTML(name)} : ${population.toLocaleString("fr-FR")} hab., ` +
          (km === null ? "aucun lieu" : `${km.toLocaleString("fr-FR")} km du lieu le plus proche`),
      )
      .addTo(map);
  }
  for (const [lat, lon, name, url] of data.points ?? []) {
    pin([lat, lon], name)
      .bindPopup(() => {
        const link = document.createElement("a");
        link.href = url;
        link.textContent = name;
        return link;
      })
      .addTo(map);
  }
  if (data.outlines) {
    // The index: every bassin, each outline leading to its page.
    const layer = await outlines(map, data.outlines, { interactive: true, style });
    layer?.eachLayer((shape) => {
      shape.bindTooltip(shape.feature.properties.name, { sticky: true });
      shape.on("click", () => {
        window.location.href = shape.feature.properties.url;
      });
    });
    if (layer) map.fitBounds(layer.getBounds());
  }
}
