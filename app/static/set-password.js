// Open a set-password link: its token follows the #, which never reaches the server (so
// no access log holds it). Copy it into the form, drop it from the address bar, send it.
document.addEventListener("DOMContentLoaded", function () {
  var field = document.getElementById("token");
  var token = window.location.hash.slice(1);
  if (!field || !token || field.value) {
    return;
  }
  field.value = decodeURIComponent(token);
  history.replaceState(null, "", window.location.pathname);
  field.form.submit();
});
