// Opening hours editor: days × time slots ↔ the OpenStreetMap `opening_hours`
// text field. The person ticks the open days and types hours; the field is
// written for them. Without JavaScript the text field stays and the server
// validates it. Expressions the editor cannot show (weeks of the month,
// holidays other than "PH off"…) are left to the text field, untouched.

const DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const DAY_NAMES = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"];
const TIME = /^([01]?\d|2[0-4]):([0-5]\d)$/;

/** Parse the simple weekly subset; null when the expression is richer than that. */
export function parse(text) {
  const week = DAYS.map(() => []);
  let holidaysOff = false;
  const value = (text || "").trim();
  if (!value) return { week, holidaysOff };
  for (const raw of value.split(";")) {
    const rule = raw.trim();
    if (!rule) continue;
    if (rule === "PH off" || rule === "PH closed") {
      holidaysOff = true;
      continue;
    }
    const match = rule.match(/^([A-Za-z,\- ]+?)\s+(off|closed|[\d:,\- ]+)$/);
    if (!match) return null;
    const days = parseDays(match[1].replace(/\s+/g, ""));
    if (!days) return null;
    const slots = [];
    if (match[2] !== "off" && match[2] !== "closed") {
      for (const span of match[2].split(",")) {
        const [start, end] = span.trim().split("-");
        if (!TIME.test(start || "") || !TIME.test(end || "")) return null;
        slots.push([pad(start), pad(end)]);
      }
    }
    for (const day of days) week[day] = slots.map((slot) => [...slot]);
  }
  return { week, holidaysOff };
}

function parseDays(text) {
  const days = [];
  for (const item of text.split(",")) {
    const [first, last] = item.split("-");
    const a = DAYS.indexOf(first);
    const b = last === undefined ? a : DAYS.indexOf(last);
    if (a < 0 || b < 0) return null;
    for (let day = a; ; day = (day + 1) % 7) {
      days.push(day);
      if (day === b) break;
    }
  }
  return days;
}

function pad(time) {
  const [h, m] = time.split(":");
  return `${h.padStart(2, "0")}:${m}`;
}

/** The OSM expression of a week: days with the same slots are grouped ("Mo-Fr"). */
export function format({ week, holidaysOff }) {
  const groups = new Map();
  week.forEach((slots, day) => {
    const valid = slots.filter(([a, b]) => TIME.test(a) && TIME.test(b) && a < b);
    if (!valid.length) return;
    const key = valid
      .slice()
      .sort()
      .map(([a, b]) => `${a}-${b}`)
      .join(",");
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(day);
  });
  const rules = [];
  for (const [key, days] of groups) {
    const runs = [];
    for (const day of days) {
      const run = runs.at(-1);
      if (run && day === run.at(-1) + 1) run.push(day);
      else runs.push([day]);
    }
    const selector = runs
      .map((run) => (run.length === 1 ? DAYS[run[0]] : `${DAYS[run[0]]}-${DAYS[run.at(-1)]}`))
      .join(",");
    rules.push({ first: days[0], text: `${selector} ${key}` });
  }
  rules.sort((a, b) => a.first - b.first);
  const parts = rules.map((rule) => rule.text);
  if (holidaysOff && parts.length) parts.push("PH off");
  return parts.join("; ");
}

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function build(container, input) {
  const fieldGroup = input.closest(".field") || input.parentElement;
  let state = parse(input.value);
  const note = element("p", { class: "hours-note", role: "status" });
  const grid = element("div", { class: "hours-days" });
  const holidays = element("input", { type: "checkbox", id: `${input.id}-ph` });
  const holidaysLabel = element("label", { for: holidays.id, text: "Fermé les jours fériés" });

  const write = () => {
    input.value = format(state);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };

  const renderDay = (day) => {
    const slots = state.week[day];
    const id = `${input.id}-${DAYS[day]}`;
    const open = element("input", { type: "checkbox", id: `${id}-open` });
    open.checked = slots.length > 0;
    const fieldset = element("fieldset", { class: "hours-day" }, [
      element("legend", { text: DAY_NAMES[day] }),
    ]);
    fieldset.append(
      element("p", { class: "hours-open" }, [
        open,
        " ",
        element("label", { for: open.id, text: `Ouvert le ${DAY_NAMES[day].toLowerCase()}` }),
      ]),
    );
    const list = element("div", { class: "hours-slots" });
    slots.forEach(([start, end], index) => {
      const n = index + 1;
      const from = element("input", { type: "time", id: `${id}-${n}-start`, value: start });
      const to = element("input", { type: "time", id: `${id}-${n}-end`, value: end });
      const remove = element("button", {
        type: "button",
        class: "link-button",
        text: "Retirer",
        "aria-label": `Retirer le créneau ${n} du ${DAY_NAMES[day].toLowerCase()}`,
      });
      const error = element("span", { class: "hours-error", role: "alert" });
      const check = () => {
        const bad = from.value && to.value && from.value >= to.value;
        error.textContent = bad ? "L’heure de fin doit venir après l’heure de début." : "";
      };
      for (const [field, position] of [
        [from, 0],
        [to, 1],
      ]) {
        field.addEventListener("change", () => {
          state.week[day][index][position] = field.value;
          check();
          write();
        });
      }
      remove.addEventListener("click", () => {
        state.week[day].splice(index, 1);
        write();
        refresh(day);
      });
      list.append(
        element("div", { class: "hours-slot" }, [
          element("label", { for: from.id, text: `De` }),
          " ",
          from,
          " ",
          element("label", { for: to.id, text: "à" }),
          " ",
          to,
          " ",
          remove,
          error,
        ]),
      );
    });
    const add = element("button", {
      type: "button",
      class: "button-secondary",
      text: "Ajouter un créneau",
      "aria-label": `Ajouter un créneau le ${DAY_NAMES[day].toLowerCase()}`,
    });
    add.addEventListener("click", () => {
      const previous = state.week[day].at(-1);
      state.week[day].push(previous ? [previous[1] < "14:00" ? "14:00" : previous[1], "18:00"] : ["09:00", "12:00"]);
      write();
      refresh(day, true);
    });
    open.addEventListener("change", () => {
      state.week[day] = open.checked ? [["09:00", "12:00"]] : [];
      write();
      refresh(day, open.checked);
    });
    if (slots.length) fieldset.append(list, add);
    return fieldset;
  };

  const refresh = (day, focusLast = false) => {
    const old = grid.children[day];
    const fresh = renderDay(day);
    grid.replaceChild(fresh, old);
    if (focusLast) fresh.querySelector(".hours-slot:last-of-type input")?.focus();
  };

  const copy = element("button", {
    type: "button",
    class: "button-secondary",
    text: "Mêmes horaires que le lundi pour tous les jours ouverts",
  });
  copy.addEventListener("click", () => {
    const monday = state.week[0];
    state.week = state.week.map((slots, day) =>
      day === 0 || !slots.length ? slots : monday.map((slot) => [...slot]),
    );
    write();
    state.week.forEach((_, day) => refresh(day));
  });

  const render = () => {
    grid.replaceChildren(...DAYS.map((_, day) => renderDay(day)));
    holidays.checked = state.holidaysOff;
  };

  holidays.addEventListener("change", () => {
    state.holidaysOff = holidays.checked;
    write();
  });

  // The text field moves into "saisie avancée"; typing there rebuilds the editor.
  const details = element("details", { class: "hours-advanced" }, [
    element("summary", { text: "Saisie avancée : les horaires au format OpenStreetMap" }),
  ]);
  fieldGroup.after(details);
  details.append(fieldGroup);
  input.addEventListener("change", () => {
    const parsed = parse(input.value);
    if (parsed) {
      state = parsed;
      note.textContent = "";
      container.hidden = false;
      render();
    } else {
      container.hidden = true;
    }
  });

  container.append(
    element("p", { class: "help", text: "Cochez les jours d’ouverture, puis indiquez les heures. Ajoutez un créneau pour l’après-midi." }),
    grid,
    element("p", {}, [copy]),
    element("p", {}, [holidays, " ", holidaysLabel]),
    note,
  );
  details.before(container);

  if (state === null) {
    // Richer than the editor: leave it to the text field, open and untouched.
    details.open = true;
    container.hidden = true;
    state = { week: DAYS.map(() => []), holidaysOff: false };
    const warning = element("p", {
      class: "hours-note",
      text: "Ces horaires utilisent une forme avancée que l’éditeur ne sait pas afficher : modifiez-les dans le champ ci-dessous.",
    });
    details.before(warning);
    return;
  }
  render();
  container.hidden = false;
}

for (const container of document.querySelectorAll("[data-hours-editor-for]")) {
  const input = document.getElementById(container.dataset.hoursEditorFor);
  if (input) build(container, input);
}
