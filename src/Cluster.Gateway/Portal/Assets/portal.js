// The portal's only script; every page works without it. Copy buttons (the fields are selectable, read-only text too).
document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) {
        return;
    }

    button.hidden = false;
    button.addEventListener("click", function () {
        var done = function () {
            button.textContent = "Copied";
            setTimeout(function () { button.textContent = "Copy"; }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
        } else {
            field.select();
            if (document.execCommand && document.execCommand("copy")) {
                done();
            }
        }
    });
});

// Each form is sent once. A second click while its answer is on the way, or the browser's reload of that answer, would
// send it again: a second token, client secret, tenant or setup link nobody ever sees (and the first one's secret, shown
// only in the answer the browser dropped, lost). Without this script a form works as before.
var forms = document.querySelectorAll("form[method='post']");
forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
        if (form.hasAttribute("data-sent")) {
            event.preventDefault();
            return;
        }

        form.setAttribute("data-sent", "");
    });
});
window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
        forms.forEach(function (form) { form.removeAttribute("data-sent"); });
    }
});

// The page as the answer to a form: reloading it, or coming back to it, asks for the page (without the form's handler)
// instead of sending the form again.
if (window.history && history.replaceState) {
    var here = new URL(location.href);
    here.searchParams.delete("handler");
    history.replaceState(null, "", here.toString());
}
