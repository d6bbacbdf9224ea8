// Edit page (mediators' space): never lose typed changes without a word.
// Leaving the page (link, reload, closing the tab) while the form holds
// changes that are not saved asks first, as browsers do for `beforeunload`.
// Submitting the form (preview, save, "Ces informations sont à jour", which
// goes through the preview when something changed) does not ask.
// A page shown after a post (preview, errors, conflict) holds unsaved input
// from the start: the server marks the form with data-unsaved.
const form = document.getElementById("edit-form");

function state() {
  const data = new FormData(form);
  data.delete("csrfmiddlewaretoken");
  return new URLSearchParams(data).toString();
}

if (form) {
  let saved = null;
  let submitting = false;
  // After the other modules (hours editor, map) have set their fields up.
  window.addEventListener("load", () => {
    saved = state();
  });
  form.addEventListener("submit", () => {
    submitting = true;
  });
  window.addEventListener("pageshow", () => {
    submitting = false; // back from the next page: the form is here again
  });
  window.addEventListener("beforeunload", (event) => {
    if (submitting) return;
    const unsaved = form.dataset.unsaved === "true" || (saved !== null && state() !== saved);
    if (unsaved) {
      event.preventDefault();
      event.returnValue = ""; // older browsers need it set to show the question
    }
  });
}
