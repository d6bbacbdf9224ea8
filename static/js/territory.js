// Bassin, department and bassins index pages: the outline(s) and the places.
const readJSON = (id) => {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
};

const config = readJSON("map-config");
const data = readJSON("map-data");
if (config && data && window.L) {
  document.getElementById("map-panel").hidden = false;
  const map = L.map("map", { zoomControl: false, scrollWheelZoom: false });
  L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
  map.attributionControl.setPrefix(false);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: config.maxZoom }).addTo(map);
  const style = { color: "#000091", weight: 2, fillColor: "#000091", fillOpacity: 0.06 };

  if (data.outline) {
    const outline = L.geoJSON(data.outline, { style, interactive: false }).addTo(map);
    map.fitBounds(outline.getBounds());
  } else {
    map.setView(config.center, config.zoom);
  }
  for (const [lat, lon, name, url] of data.points ?? []) {
    L.marker([lat, lon], {
      icon: L.divIcon({ className: "pin", iconSize: [26, 26] }),
      title: name,
    })
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
    fetch(data.outlines)
      .then((response) => response.json())
      .then((collection) => {
        const layer = L.geoJSON(collection, {
          style,
          onEachFeature: (feature, shape) => {
            shape.bindTooltip(feature.properties.name, { sticky: true });
            shape.on("click", () => {
              window.location.href = feature.properties.url;
            });
          },
        }).addTo(map);
        map.fitBounds(layer.getBounds());
      });
  }
}
