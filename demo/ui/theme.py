"""How the page looks: the theme (system fonts only, so that nothing is fetched from a font server), the
style sheet, the keyboard script, and the settings gradio's launch takes."""

from __future__ import annotations

import json

import gradio as gr

from demo.handlers.protocol import APP_KWARGS
from demo.images import EXAMPLES_DIR, EXTENSIONS, MAX_BYTES

SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
CSS = """
.caption {color: #555; font-size: 0.9em; margin-top: -4px}
#title h1 {font-size: 1.6em; margin: 0 0 2px 0; color: #0b3d91}
#title p {margin: 0}
#status {border-left: 4px solid #e8862a; padding-left: 10px; min-height: 2.6em}
#image {min-height: 0}
#examples .grid-wrap {overflow: hidden; padding: 36px 4px 4px 4px}
#examples .grid-container {grid-template-columns: repeat(4, minmax(0, 1fr)) !important;
                           grid-template-rows: repeat(2, 74px) !important; grid-auto-rows: 74px !important;
                           gap: 6px !important}
#maps_original, #maps_translated {flex: none !important; width: auto !important; min-width: 0 !important}
.pc-pic {margin: 0; text-align: center}
.pc-pic img {display: block; margin: 0 auto; width: 200px; height: 200px; border: 1px solid #ccc}
.pc-pic figcaption {font-size: 12px; color: #555; margin-top: 3px}
.pc-empty {width: 200px; height: 200px; margin: 0 auto; display: flex; align-items: center; justify-content: center;
           text-align: center; background: #f3f4f6; color: #777; border: 1px dashed #bbb; font-size: 13px; padding: 8px}
.pc-pair {display: flex; gap: 4px}
.pc-maps {display: flex; flex-direction: column; gap: 4px}
.pc-r {display: flex; gap: 4px; height: var(--t); align-items: center}
.pc-r > img, .pc-r > .pc-blank, .pc-h > div {width: var(--t); height: var(--t); flex: none; margin: 0}
.pc-h {height: 54px; align-items: flex-end}
.pc-h > div {height: auto; font-size: 11.5px; line-height: 1.2; text-align: center}
.pc-h > div.pc-l, .pc-r > .pc-l {width: 150px; flex: none}
.pc-l {font-size: 11px; line-height: 1.25; text-align: right; padding-right: 4px; color: #333}
img.pc-x {image-rendering: pixelated}
.pc-key {display: block; height: 7px; margin: 2px 4px 0 4px; border: 1px solid #ccc}
.pc-key.pc-wheel {width: 16px; height: 16px; border-radius: 50%; margin: 2px auto 0 auto}
#maps_translated {margin-left: 10px}
.pc-chart {border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px 8px; background: white}
.pc-ct {font-size: 13px; font-weight: 600; color: #333; margin-bottom: 2px}
.pc-svg {width: 100%; height: auto; display: block; font-size: 11px}
.pc-svg.pc-square {max-width: 400px; margin: 0 auto}
.pc-tx {text-anchor: middle; fill: #444}
.pc-ty {text-anchor: end; dominant-baseline: middle; fill: #444}
.pc-legend {display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 11.5px; color: #333}
.pc-lg {display: inline-flex; align-items: center; gap: 4px}
.pc-msg {padding: 40px 10px; text-align: center; color: #777}
#pc-pending {position: fixed; top: 12px; right: 12px; z-index: 1000; padding: 6px 12px; border-radius: 14px;
             background: #0b3d91; color: white; font-size: 13px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
             visibility: hidden; opacity: 0; transition: visibility 0s, opacity 0s}
#pc-pending.pc-on {visibility: visible; opacity: 1; transition-delay: .4s}
/* a checked radio stays drawn checked under the pointer and with focus (gradio's hover style paints it white) */
input[type=radio]:checked, input[type=radio]:checked:hover, input[type=radio]:checked:focus {
  background-color: var(--checkbox-background-color-selected) !important;
  background-image: var(--radio-circle) !important; border-color: var(--checkbox-border-color-selected) !important}
/* the examples' captions wrap instead of being cut ("hors…") */
#examples .caption-label {white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
                          max-width: calc(100% - 4px) !important; font-size: 11px !important; line-height: 1.15;
                          padding: 1px 4px !important; text-align: right}
#status_row {align-items: center}
#classes {margin-top: 4px}
"""
# Keyboard: a range slider's arrow keys, PageUp/PageDown and Home/End already fire "input" events; Enter
# in a slider's number box fires nothing until the box loses focus (gradio's "release" on blur), so
# Enter is turned into the same "release" the pointer sends.
# Refused files: gradio checks a file's type and size on the page and sends nothing when it refuses one (a
# toast says so, the server never hears of it); the same checks here report its name and size to the
# server (the hidden #refused_button, demo.handlers.page.refused), so that the status line says why.
# Waiting: pcPending(true) when a page update is sent, (false) when it is answered; the marker shows only
# when the answer takes longer than the transition's delay (a static element: no animation loop).
HEAD = """<script>
document.addEventListener("keydown", (e) => {
  const t = e.target;
  if (e.key === "Enter" && t instanceof HTMLInputElement && t.type === "number") {
    t.dispatchEvent(new PointerEvent("pointerup", {bubbles: true}));
  }
}, true);
const pcAccepted = __EXTENSIONS__, pcMaxBytes = __MAX_BYTES__;
function pcCheck(files) {
  for (const f of files || []) {
    const dot = f.name.lastIndexOf("."), ext = dot > 0 ? f.name.slice(dot).toLowerCase() : "";
    if (!pcAccepted.includes(ext) || f.size > pcMaxBytes) {
      window.pcRefused = {name: f.name, size: f.size};
      document.querySelector("#refused_button")?.click();
      return;
    }
  }
}
document.addEventListener("change", (e) => {
  const t = e.target;
  if (t instanceof HTMLInputElement && t.type === "file" && t.closest("#image")) pcCheck(t.files);
}, true);
document.addEventListener("drop", (e) => {
  if (e.target instanceof Element && e.target.closest("#image") && e.dataTransfer) pcCheck(e.dataTransfer.files);
}, true);
window.pcPending = (on) => {
  let el = document.getElementById("pc-pending");
  if (!el) {
    el = document.createElement("div");
    el.id = "pc-pending";
    el.setAttribute("role", "status");
    el.textContent = "Waiting for the server…";
    document.body.appendChild(el);
  }
  el.classList.toggle("pc-on", on);
};
</script>""".replace("__EXTENSIONS__", json.dumps(EXTENSIONS)).replace("__MAX_BYTES__", str(MAX_BYTES))
PENDING_ON = "(...inputs) => { window.pcPending && window.pcPending(true); return inputs; }"
PENDING_OFF = "() => { window.pcPending && window.pcPending(false); }"
REFUSED = "() => JSON.stringify(window.pcRefused || {})"


def note_script(note: str, elem_id: str) -> str:
    """A note shown at once (in the page, without a request) in the element ``elem_id``, brought into view:
    where the user is looking when a computation starts (demo.ui.events.quietly)."""
    return (f"() => {{ setTimeout(() => document.getElementById({json.dumps(elem_id)})?.scrollIntoView("
            f"{{block: 'nearest'}}), 100); return {json.dumps(note)}; }}")


def theme() -> gr.themes.Base:
    """Poster colours; system fonts only, so that nothing is fetched from a font server."""
    return gr.themes.Default(primary_hue="blue", secondary_hue="orange", neutral_hue="slate",
                             font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def launch_settings() -> dict:
    return {"max_file_size": MAX_BYTES, "allowed_paths": [str(EXAMPLES_DIR)], "ssr_mode": False, "theme": theme(),
            "css": CSS, "head": HEAD, "footer_links": ["api"], "show_error": False, "app_kwargs": APP_KWARGS}
