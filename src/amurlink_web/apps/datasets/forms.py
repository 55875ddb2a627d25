from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    package = forms.FileField(label=_("Camtrap DP package (.zip)"))
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
