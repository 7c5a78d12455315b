// Make entering a session's results from paper faster: a letter typed is upper-cased and,
// on a question that takes one answer, focus moves to the next field; Enter moves on
// rather than sending the grid; the sheet code (or the address a scanner reads off its QR
// code) jumps to the sheet's row without leaving the page. Scores are never computed
// here: the key stays on the server, which grades the preview. The page works without
// this script, field by field with Tab.
document.addEventListener("DOMContentLoaded", function () {
  var grid = document.querySelector("form.results-grid");
  if (!grid) {
    return;
  }

  function fields() {
    return Array.prototype.filter.call(grid.elements, function (element) {
      return element.type === "text" || element.type === "checkbox";
    });
  }

  function next(field) {
    var all = fields();
    var following = all[all.indexOf(field) + 1];
    if (following) {
      following.focus();
      if (following.select) {
        following.select();
      }
    }
  }

  function rowOf(code) {
    var wanted = code.trim().replace(/\/+$/, "").split("/").pop().toUpperCase().replace(/-/g, "");
    return wanted ? document.getElementById("sheet-" + wanted) : null;
  }

  function goTo(row) {
    var first = row.querySelector("input");
    row.classList.add("current");
    row.scrollIntoView({ block: "center" });
    if (first) {
      first.focus();
    }
  }

  grid.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.classList.contains("answer")) {
      return;
    }
    var letters = field.value.toUpperCase().replace(/[^A-Z-]/g, "");
    if (letters !== field.value) {
      field.value = letters;
    }
    if (letters.length === 1 && !field.hasAttribute("data-multiple") && event.inputType !== "deleteContentBackward") {
      next(field);
    }
  });

  grid.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.classList.contains("answer")) {
      event.preventDefault();
      next(event.target);
    }
  });

  var finder = document.querySelector("form.go-to-sheet");
  if (finder) {
    finder.addEventListener("submit", function (event) {
      var row = rowOf(finder.elements.sheet.value);
      if (row) {
        event.preventDefault();
        finder.elements.sheet.value = "";
        goTo(row);
      }
    });
  }

  if (window.location.hash.indexOf("#sheet-") === 0) {
    var row = rowOf(window.location.hash.slice(7));
    if (row) {
      goTo(row);
    }
  }
});
