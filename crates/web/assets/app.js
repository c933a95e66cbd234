// Progressive enhancement only: every page works without this file.
// 1. On a report form, a click on the map (or "use my location") fills longitude and latitude.
document.addEventListener("DOMContentLoaded", () => {
  const svg = document.querySelector("svg[data-pick]");
  const lng = document.getElementById("lng");
  const lat = document.getElementById("lat");
  const crs = document.getElementById("crs");
  if (svg && lng && lat) {
    const x0 = parseFloat(svg.dataset.x0), y1 = parseFloat(svg.dataset.y1);
    const kx = parseFloat(svg.dataset.kx), scale = parseFloat(svg.dataset.scale);
    const dot = svg.querySelector("#pick");
    svg.addEventListener("click", (ev) => {
      const pt = svg.createSVGPoint();
      pt.x = ev.clientX; pt.y = ev.clientY;
      const p = pt.matrixTransform(svg.getScreenCTM().inverse());
      lng.value = (x0 + p.x / (kx * scale)).toFixed(6);
      lat.value = (y1 - p.y / scale).toFixed(6);
      if (crs) crs.value = "wgs84";
      if (dot) { dot.setAttribute("cx", p.x); dot.setAttribute("cy", p.y); }
    });
  }
  const me = document.getElementById("locate-me");
  if (me && navigator.geolocation) {
    me.addEventListener("click", () => navigator.geolocation.getCurrentPosition((pos) => {
      lng.value = pos.coords.longitude.toFixed(6);
      lat.value = pos.coords.latitude.toFixed(6);
      if (crs) crs.value = "wgs84";
    }));
  } else if (me) { me.hidden = true; }
});
