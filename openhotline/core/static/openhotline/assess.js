// The case screen from the keyboard. The keys are printed on the screen next to the
// controls they work (the <kbd> in each label), and every control is a plain form field,
// so this script only chooses fields and submits the forms htmx already handles.
(() => {
  "use strict";
  const grid = document.querySelector("[data-assess]") || document.querySelector("table .group");
  if (!grid) return;

  const groups = () => [...document.querySelectorAll(".group")];
  const groupOf = (el) => (el && el.closest ? el.closest(".group") : null);
  let pendingActivity = null; // a group whose activity was chosen: the next digit is the age band
  let lastGroupId = null;

  function blur(group) {
    if (!group) return;
    const viewer = group.querySelector(".viewer");
    if (viewer) viewer.replaceChildren(); // the original leaves the page, not just the view
    group.classList.remove("revealed");
  }

  function blurAll() {
    groups().forEach(blur);
  }

  function focusGroup(group) {
    if (!group) return;
    group.focus();
    group.scrollIntoView({ block: "nearest" });
  }

  function step(from, delta) {
    const all = groups();
    const at = all.indexOf(from);
    return all[Math.min(all.length - 1, Math.max(0, (at < 0 ? 0 : at) + delta))];
  }

  function nextUngraded(from) {
    const all = groups();
    const at = all.indexOf(from);
    const after = all.slice(at + 1).concat(all.slice(0, at + 1));
    return after.find((g) => !g.classList.contains("graded")) || null;
  }

  function choose(group, name, value) {
    const input = group.querySelector(`input[name="${name}"][value="${value}"]`);
    if (input) input.checked = true;
    return Boolean(input);
  }

  function submitGrade(group) {
    const form = group.querySelector("form.grade");
    if (form) form.requestSubmit();
  }

  function keyTarget(group, key) {
    // The label whose <kbd> shows this key, within one fieldset of the group's form.
    return [...group.querySelectorAll("form.grade label")].find(
      (label) => label.querySelector("kbd") && label.querySelector("kbd").textContent === key
    );
  }

  function inputFor(group, key, name) {
    const label = [...group.querySelectorAll(`form.grade input[name="${name}"]`)]
      .map((input) => input.closest("label"))
      .find((l) => l && l.querySelector("kbd") && l.querySelector("kbd").textContent === key);
    return label ? label.querySelector("input") : null;
  }

  function setRate(group, delta, absolute) {
    const video = group && group.querySelector(".viewer video");
    if (!video) return;
    const rate = absolute !== undefined ? absolute : video.playbackRate + delta;
    video.playbackRate = Math.min(8, Math.max(0.25, rate));
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    const el = event.target;
    // Enter on a choice of the decision form decides (browsers only submit from text).
    if (key === "Enter" && el.matches && el.matches("#decision input[type=radio], #decision input[type=checkbox], #decision select")) {
      event.preventDefault();
      el.form.requestSubmit();
      return;
    }
    if (el.matches && el.matches("textarea, select, input[type=text], input[type=number], input[type=date], input[type=search]")) return;
    const group = groupOf(document.activeElement) || null;
    if (key === "?") {
      const help = document.querySelector(".keys-help");
      if (help) help.open = !help.open;
      return;
    }
    if (key === "d") {
      const decision =
        document.querySelector('#decision input[name="criminal"]:checked') ||
        document.querySelector("#decision input:not([type=hidden]), #decision button");
      if (decision) {
        event.preventDefault();
        blurAll();
        decision.focus();
      }
      return;
    }
    // Arrows belong to a radio group or select when one has focus; j/k work everywhere.
    const inControl = Boolean(el.matches && el.matches("input, select, button, textarea"));
    if (inControl && key.startsWith("Arrow")) return;
    if (key === "j" || key === "ArrowRight" || key === "ArrowDown") {
      event.preventDefault();
      focusGroup(group ? step(group, 1) : groups()[0]);
      return;
    }
    if (key === "k" || key === "ArrowLeft" || key === "ArrowUp") {
      event.preventDefault();
      focusGroup(group ? step(group, -1) : groups()[0]);
      return;
    }
    if (!group) return;
    if (key === "v") {
      event.preventDefault();
      if (group.classList.contains("revealed")) blur(group);
      else {
        const form = group.querySelector("form.reveal") || document.getElementById(`reveal-${group.id.replace("group-", "")}`);
        if (form) form.requestSubmit();
      }
      return;
    }
    if (key === "[" || key === "]") {
      setRate(group, key === "]" ? 0.5 : -0.5);
      return;
    }
    if (!group.querySelector("form.grade")) return;
    if (/^[1-9]$/.test(key)) {
      event.preventDefault();
      if (pendingActivity === group) {
        const age = inputFor(group, key, "age_band");
        if (age) {
          age.checked = true;
          pendingActivity = null;
          submitGrade(group);
        }
      } else {
        const activity = inputFor(group, key, "grade");
        if (activity) {
          activity.checked = true;
          pendingActivity = group;
        }
      }
      return;
    }
    const notCsam = inputFor(group, key, "grade");
    if (notCsam) {
      event.preventDefault();
      notCsam.checked = true;
      pendingActivity = null;
      submitGrade(group);
      return;
    }
    const flag = keyTarget(group, key);
    if (flag) {
      const box = flag.querySelector("input[type=checkbox]");
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
      }
      return;
    }
    if (key === "Enter" && el === group) {
      event.preventDefault();
      pendingActivity = null;
      submitGrade(group);
    }
  });

  // Leaving an item blurs it again, by keyboard or pointer.
  document.addEventListener("focusout", (event) => {
    const left = groupOf(event.target);
    if (left && !left.contains(event.relatedTarget)) {
      if (pendingActivity === left) pendingActivity = null;
      blur(left);
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) blurAll();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-rate]");
    if (button) setRate(groupOf(button), 0, Number(button.dataset.rate));
  });

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const group = groupOf(event.detail.elt);
    lastGroupId = group ? group.id : null;
  });

  // The verdict follows the grades until the person chooses it themselves.
  let verdictChosen = false;
  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches('#decision input[name="criminal"]')) verdictChosen = true;
  });
  function suggestVerdict() {
    if (verdictChosen) return;
    const criminal = Boolean(document.querySelector('.graded-as[data-csam="1"]'));
    const radio = document.querySelector(`#decision input[name="criminal"][value="${criminal ? "yes" : "no"}"]`);
    if (radio) radio.checked = true;
    // Nothing criminal graded: the likeliest reason, which the analyst can change.
    const reason = document.querySelector('#decision select[name="closure_reason"]');
    const graded = document.querySelectorAll(".graded-as").length;
    if (reason && !criminal && graded && !reason.value) reason.value = "not_csam";
    if (reason && criminal) reason.value = "";
  }

  document.body.addEventListener("htmx:afterSettle", (event) => {
    suggestVerdict();
    const group = lastGroupId ? document.getElementById(lastGroupId) : null;
    if (!group) return;
    const viewer = group.querySelector(".viewer");
    if (viewer && viewer.querySelector(".revealed-media")) {
      group.classList.add("revealed");
      if (!group.contains(document.activeElement)) group.focus();
      return;
    }
    if (event.detail.elt === group || event.detail.target === group || group.classList.contains("graded")) {
      // A grade was saved (or refused): go on to the next item still to grade.
      if (group.classList.contains("graded") && !group.querySelector(".errors")) {
        focusGroup(nextUngraded(group) || group);
      } else {
        focusGroup(group);
      }
    }
  });
  // Tests (and people watching closely) can tell the keys work from here on.
  document.body.dataset.keys = "ready";
})();
