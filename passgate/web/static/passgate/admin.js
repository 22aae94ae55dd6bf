// Admin centre: the key-restriction model picker. "Add to list" appends the picked model name to the profile's
// AAGUID list (Passgate turns a name into every AAGUID of that model on save). Without JavaScript, the picked name
// is added on Save instead.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-add-model]");
  if (!button) return;
  const key = button.dataset.addModel;
  const pick = document.getElementById(`${key}-pick`);
  const list = document.getElementById(`${key}-aaguids`);
  const name = pick.value.trim();
  if (!name) { pick.focus(); return; }
  const lines = list.value.split("\n").map((line) => line.trim()).filter(Boolean);
  if (!lines.some((line) => line.toLowerCase() === name.toLowerCase())) lines.push(name);
  list.value = lines.join("\n");
  list.rows = Math.max(list.rows, Math.min(lines.length + 1, 10));
  pick.value = "";
  pick.focus();
});
