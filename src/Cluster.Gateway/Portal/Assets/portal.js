// Copy buttons: the portal's only script; every page works without it (the fields are selectable, read-only text).
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
