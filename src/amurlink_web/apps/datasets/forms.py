from django import forms
from django.utils.translation import gettext_lazy as _


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (national tables with their mapping TOML)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class UploadForm(forms.Form):
    KINDS = [
        ("camtrap-dp", _("Camtrap DP package (.zip)")),
        ("mapping", _("National tables with their import mapping (TOML + CSV/XLSX)")),
        ("wildlife-insights", _("Wildlife Insights project download (.zip)")),
        ("megadetector", _("MegaDetector or SpeciesNet results (.json) for the current dataset")),
    ]
    kind = forms.ChoiceField(label=_("What you upload"), choices=KINDS, initial="camtrap-dp",
                             required=False)
    package = forms.FileField(label=_("One file (.zip or .json)"), required=False)
    files = MultipleFileField(label=_("Or several files (mapping TOML and its tables)"),
                              required=False)
    timezone = forms.CharField(label=_("Camera clock time zone (e.g. Asia/Vladivostok)"),
                               max_length=64, required=False)
    title = forms.CharField(label=_("Title"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        data["kind"] = data.get("kind") or "camtrap-dp"  # scripts that post only a package
        if not data.get("package") and not data.get("files"):
            raise forms.ValidationError(_("Choose a file to upload."))
        return data
