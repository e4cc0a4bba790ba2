// openrevox dashboard: live updates (server-sent events) and a transcript that follows
// the recording. No framework, no build step.
"use strict";

// Each spoken turn's [start, end) in seconds: from speech_events when the page has them
// (data-start/data-end, ms), else each turn's share of the recording in proportion to its
// length (a pause counted for each turn).
function turnTimes(turns, duration) {
  if (turns.length && turns.every((t) => t.dataset.start !== undefined)) {
    return turns.map((t, i) => {
      const start = Number(t.dataset.start) / 1000;
      const next = i + 1 < turns.length ? Number(turns[i + 1].dataset.start) / 1000 : duration;
      const end = t.dataset.end !== undefined ? Number(t.dataset.end) / 1000 : next;
      return [start, Math.max(end, start)];
    });
  }
  const PAUSE = 12; // characters' worth of silence between two turns
  const weights = turns.map((t) => Number(t.dataset.weight || 0) + PAUSE);
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  let cursor = 0;
  return weights.map((w) => {
    const start = (cursor / total) * duration;
    cursor += w;
    return [start, (cursor / total) * duration];
  });
}

function followPlayback(article) {
  const audio = article.querySelector("audio.recording");
  if (!audio || audio.dataset.bound) return;
  audio.dataset.bound = "1";
  const turns = Array.from(article.querySelectorAll(".transcript .turn.spoken"));
  let times = null;
  const update = () => {
    if (!isFinite(audio.duration) || audio.duration <= 0) return;
    times = times || turnTimes(turns, audio.duration);
    const now = audio.currentTime;
    turns.forEach((turn, i) => {
      const active = now >= times[i][0] && now < times[i][1];
      if (active && !turn.classList.contains("current")) {
        turn.scrollIntoView({ block: "nearest" });
      }
      turn.classList.toggle("current", active);
    });
  };
  audio.addEventListener("timeupdate", update);
  audio.addEventListener("seeked", update);
  audio.addEventListener("loadedmetadata", () => { times = null; update(); });
  turns.forEach((turn, i) => {
    turn.addEventListener("click", () => {
      if (!isFinite(audio.duration)) return;
      times = times || turnTimes(turns, audio.duration);
      audio.currentTime = times[i][0];
      audio.play();
    });
  });
}

function bindPage(root) {
  root.querySelectorAll("article.attempt").forEach(followPlayback);
}

function subscribe(call) {
  const url = call.dataset.live;
  if (!url || !window.EventSource) return;
  const source = new EventSource(url);
  const shown = {}; // region -> the HTML last swapped in (a reconnect sends it again)
  const regions = (call.dataset.regions || "summary attempts webhooks").split(" ");
  regions.forEach((region) => {
    source.addEventListener(region, (event) => {
      const target = call.querySelector(`[data-region="${region}"]`);
      if (!target || shown[region] === event.data) return;
      shown[region] = event.data;
      target.innerHTML = event.data;
      bindPage(target);
      if (window.drawCharts) window.drawCharts(target);
    });
  });
  source.addEventListener("done", () => {
    source.close();
    call.dataset.liveEnded = "1";
  });
}

// A CSV chosen in the campaign form is read here into the form's text field: the forms
// are urlencoded (the server needs no multipart parser).
function readCsvInto(input) {
  const target = document.getElementById("csv-text");
  if (!target) return;
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => { target.value = reader.result; target.dataset.loaded = file.name; };
    reader.readAsText(file);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const csv = document.getElementById("csv-file");
  if (csv) readCsvInto(csv);
  bindPage(document);
  ["call", "campaign"].forEach((id) => {
    const live = document.getElementById(id);
    if (live) subscribe(live);
  });
});
